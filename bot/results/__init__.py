"""Results night (kết quả kiểm phiếu): ballots, electoral units and candidates, the counting
records polling teams send after the count, their running totals per electoral unit and the
provisional outcome of each unit. Pure domain, like the rest of `bot/`: the store keeps the
data (`storage/`), the channels carry the messages (`handlers/`).
"""
