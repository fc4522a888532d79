import Foundation
import Synchronization
import TomeLinalg
import Testing

@Suite("WorkerTeam")
struct WorkerTeamTests {
  @Test("every piece runs exactly once, over many back-to-back regions", arguments: [0, 1, 3])
  func piecesOnce(helpers: Int) {
    let team = WorkerTeam(helpers: helpers)
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: 64)
    defer { counts.deallocate() }
    let out = SendablePointer(counts)
    for region in 0..<2_000 {
      let pieces = region % 64 + 1
      counts.initialize(repeating: 0, count: 64)
      team.forEach(pieces: pieces) { i in out.pointer[i] += 1 }
      for i in 0..<64 { #expect(counts[i] == (i < pieces ? 1 : 0), "region \(region) piece \(i)") }
    }
  }

  @Test("regions after helpers have parked still run every piece")
  func afterParking() {
    let team = WorkerTeam(helpers: 2, spin: .microseconds(10))
    let total = Atomic<Int>(0)
    for round in 0..<5 {
      Thread.sleep(forTimeInterval: 0.005)
      team.forEach(pieces: 16) { i in total.add(i + 1, ordering: .relaxed) }
      #expect(total.load(ordering: .relaxed) == (round + 1) * 136)
    }
  }

  @Test("forRanges covers 0..<count with aligned, disjoint ranges")
  func ranges() {
    let team = WorkerTeam(helpers: 1)
    let seen = UnsafeMutablePointer<Int>.allocate(capacity: 1000)
    defer { seen.deallocate() }
    let out = SendablePointer(seen)
    for count in [1, 15, 16, 17, 999, 1000] {
      seen.initialize(repeating: 0, count: 1000)
      team.forRanges(count: count, pieces: 8, alignment: 16) { r in
        if r.count != 0 && r.upperBound != count { precondition(r.count % 16 == 0) }
        for i in r { out.pointer[i] += 1 }
      }
      #expect((0..<1000).allSatisfy { seen[$0] == ($0 < count ? 1 : 0) }, "count \(count)")
    }
  }
}
