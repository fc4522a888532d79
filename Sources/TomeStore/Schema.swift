internal import GRDB

/// The index schema as named, append-only migrations. Never edit a registered migration:
/// add a new one, and bump `version`.
enum Schema {
  static let version = 2

  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1 documents, chunks, fts, meta") { db in
      try db.execute(sql: """
        CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
        CREATE TABLE roots (path TEXT PRIMARY KEY NOT NULL);
        CREATE TABLE documents (
          id INTEGER PRIMARY KEY,
          path TEXT NOT NULL UNIQUE,
          kind TEXT,
          sha256 TEXT NOT NULL,
          size INTEGER NOT NULL,
          mtime_ns INTEGER NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('indexed', 'empty', 'skipped', 'failed')),
          reason TEXT,
          chunk_count INTEGER NOT NULL DEFAULT 0,
          token_count INTEGER NOT NULL DEFAULT 0,
          updated_at REAL NOT NULL DEFAULT (julianday('now'))
        );
        CREATE TABLE chunks (
          id INTEGER PRIMARY KEY,
          document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
          ordinal INTEGER NOT NULL,
          first_line INTEGER NOT NULL,
          last_line INTEGER NOT NULL,
          page INTEGER,
          byte_start INTEGER NOT NULL,
          byte_end INTEGER NOT NULL,
          section TEXT,
          token_count INTEGER NOT NULL,
          text TEXT NOT NULL,
          UNIQUE (document_id, ordinal)
        );
        CREATE VIRTUAL TABLE chunks_fts USING fts5(
          text, content = 'chunks', content_rowid = 'id', tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
          INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
          INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER chunks_au AFTER UPDATE OF text ON chunks BEGIN
          INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
          INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
        END;
        """)
      try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('schema_version', '1')")
    }
    migrator.registerMigration("v2 vectors") { db in
      try db.execute(sql: """
        CREATE TABLE vectors (
          chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
          vector BLOB NOT NULL
        );
        UPDATE meta SET value = '2' WHERE key = 'schema_version';
        """)
    }
    return migrator
  }
}
