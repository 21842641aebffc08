"""sqlcipher3's dbapi2 imports its C extension with `from sqlcipher3._sqlite3 import *` (SQLCipher, SQLite and
OpenSSL are linked into it statically, so there is no other library to collect)."""

hiddenimports = ["sqlcipher3._sqlite3", "sqlcipher3.dbapi2"]
