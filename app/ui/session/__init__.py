"""First run, unlock and auto-lock."""
