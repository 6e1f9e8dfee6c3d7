"""Results night (RESULTS.md): counting records, their checks, totals and Điều 78's outcome."""
