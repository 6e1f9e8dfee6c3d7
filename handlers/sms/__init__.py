"""The SMS channel: GSM-7 and segments (`gsm7`), replies as SMS texts (`render`)."""
