"""Patient list, patient view and their controller."""
