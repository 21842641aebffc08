"""File → Back up the store… and Restore from a backup…: dialogs over the same verified backup and restore as
`clinic-assistant store backup|restore`, run on the store's lane (app/core/services/store_copies.py)."""
