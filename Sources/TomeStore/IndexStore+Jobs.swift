public import Foundation
internal import GRDB

/// Whether a batch job still has questions to answer.
public enum JobStatus: String, Sendable, Hashable, Codable {
  case running, finished
}

/// A batch job (`tome batch`): one input file answered with one set of settings.
public struct JobRecord: Sendable, Hashable {
  public var id: Int64
  /// Digest of the input file's content and the answering settings; the same key resumes.
  public var key: String
  public var inputPath: String
  /// The answering settings, as text (for people; the key already covers them).
  public var settings: String
  /// Questions in the input (valid lines).
  public var total: Int
  public var status: JobStatus
  public var createdAt: Date
  public var finishedAt: Date?

  init(row: Row) {
    id = row["id"]
    key = row["key"]
    inputPath = row["input_path"]
    settings = row["settings"]
    total = row["total"]
    status = JobStatus(rawValue: row["status"]) ?? .running
    createdAt = Self.date(julianDay: row["created_at"]) ?? Date(timeIntervalSince1970: 0)
    finishedAt = Self.date(julianDay: row["finished_at"])
  }

  static func date(julianDay: Double?) -> Date? {
    julianDay.map { Date(timeIntervalSince1970: ($0 - 2_440_587.5) * 86_400) }
  }
}

/// One answered question of a job: its id, its line in the input, and the result as JSON.
public struct JobResultRecord: Sendable, Hashable {
  public var jobID: Int64
  public var questionID: String
  /// 1-based line of the question in the input file.
  public var line: Int
  /// The output line (JSON text), written once when the question finished.
  public var result: String

  public init(jobID: Int64, questionID: String, line: Int, result: String) {
    self.jobID = jobID
    self.questionID = questionID
    self.line = line
    self.result = result
  }

  init(row: Row) {
    jobID = row["job_id"]
    questionID = row["question_id"]
    line = row["line"]
    result = row["result"]
  }
}

extension IndexStore {
  /// The job with `key`, or nil when none was started.
  public func job(key: String) throws -> JobRecord? {
    try read { db in try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE key = ?", arguments: [key]).map(JobRecord.init(row:)) }
  }

  /// The job with `id`, or nil.
  public func job(id: Int64) throws -> JobRecord? {
    try read { db in try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(JobRecord.init(row:)) }
  }

  /// Every job, oldest first.
  public func jobs() throws -> [JobRecord] {
    try read { db in try Row.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY id").map(JobRecord.init(row:)) }
  }

  /// The job with `key`, created (status running) when there is none yet.
  ///
  /// An existing job keeps its results; its input path and total are brought up to date.
  public func openJob(key: String, inputPath: String, settings: String, total: Int) throws -> JobRecord {
    try write { db in
      try db.execute(
        sql: """
          INSERT INTO jobs(key, input_path, settings, total, status) VALUES (?, ?, ?, ?, 'running')
          ON CONFLICT(key) DO UPDATE SET input_path = excluded.input_path, total = excluded.total
          """,
        arguments: [key, inputPath, settings, total])
      guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE key = ?", arguments: [key]) else {
        throw StoreError(.sqlite(code: 0, sql: nil), databasePath: databaseURL.path, message: "job \(key) vanished")
      }
      return JobRecord(row: row)
    }
  }

  /// Deletes every result of job `id` and marks it running again (`tome batch --restart`).
  public func restartJob(id: Int64) throws {
    try write { db in
      try db.execute(sql: "DELETE FROM job_results WHERE job_id = ?", arguments: [id])
      try db.execute(sql: "UPDATE jobs SET status = 'running', finished_at = NULL WHERE id = ?", arguments: [id])
    }
  }

  /// Marks job `id` finished now.
  public func finishJob(id: Int64) throws {
    try write { db in
      try db.execute(sql: "UPDATE jobs SET status = 'finished', finished_at = julianday('now') WHERE id = ?", arguments: [id])
    }
  }

  /// Stores one answered question in its own transaction, so a killed job keeps it.
  ///
  /// - Returns: false when the question already has a result (the stored one is kept).
  @discardableResult
  public func saveJobResult(_ record: JobResultRecord) throws -> Bool {
    try write { db in
      try db.execute(
        sql: "INSERT INTO job_results(job_id, question_id, line, result) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        arguments: [record.jobID, record.questionID, record.line, record.result])
      return db.changesCount == 1
    }
  }

  /// The results of job `id` in input order.
  /// - Complexity: O(n) in the job's results.
  public func jobResults(jobID: Int64) throws -> [JobResultRecord] {
    try read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM job_results WHERE job_id = ? ORDER BY line", arguments: [jobID]).map(JobResultRecord.init(row:))
    }
  }

  /// The ids of the questions job `id` has answered.
  public func answeredQuestionIDs(jobID: Int64) throws -> Set<String> {
    try read { db in Set(try String.fetchAll(db, sql: "SELECT question_id FROM job_results WHERE job_id = ?", arguments: [jobID])) }
  }

  /// How many questions job `id` has answered.
  public func jobResultCount(jobID: Int64) throws -> Int {
    try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM job_results WHERE job_id = ?", arguments: [jobID]) ?? 0 }
  }
}
