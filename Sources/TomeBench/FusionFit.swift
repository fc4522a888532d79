public import TomeKit

/// Fits `FusionSettings` to a collection from questions about it with known evidence.
///
/// A plain grid search: few settings, each scored by running every question. The objective is
/// evidence in the top 5, then top 10, then top 1; ties go to the setting nearest the start
/// of the grid, which begins with the standard settings, so a fit that cannot beat them keeps
/// them.
public enum FusionFit {
  /// BM25 weight 0, ¼, ½, 1 against dense 1; k 20, 60; document focus off, or on (ratio 1)
  /// with the whole collection beside the named documents at weight 0, ½ or 1; headers at ½
  /// or left out (a collection whose headers say nothing a question asks).
  public static var grid: [FusionSettings] {
    var settings: [FusionSettings] = [.standard]
    let focus: [(ratio: Double?, unfocused: Double)] = [(1, 0.5), (1, 0), (1, 1), (nil, 1)]
    for headers in [0.5, 0] {
      for (ratio, unfocused) in focus {
        for k in [60.0, 20] {
          for bm25 in [1.0, 0.5, 0.25, 0] {
            let candidate = FusionSettings(
              bm25Weight: bm25, denseWeight: 1, rankConstant: k, documentFocus: ratio, unfocusedWeight: unfocused,
              headerWeight: headers)
            if candidate != .standard { settings.append(candidate) }
          }
        }
      }
    }
    return settings
  }

  /// BM25's weight against dense 1, from 0 to 3, the rest standard: for collections whose
  /// questions are asked in the documents' own words (SQuAD), where BM25 leads and equal
  /// weights let the weaker dense list pull hybrid below it.
  public static var bm25Grid: [FusionSettings] {
    [1.0, 0.5, 0.25, 0, 2, 3].map { weight in
      var settings = FusionSettings.standard
      settings.bm25Weight = weight
      return settings
    }
  }

  /// The best of `grid` by `score`'s page recall, with its recall.
  public static func best(
    of grid: [FusionSettings] = FusionFit.grid, score: (FusionSettings) throws -> PageRecall
  ) rethrows -> (settings: FusionSettings, recall: PageRecall) {
    let found = try best(of: grid, score: score, key: \.key)
    return (found.settings, found.score)
  }

  /// The best of `grid` by `key` of its score (compared in order, larger first); ties go to
  /// the earlier setting.
  public static func best<Score>(
    of grid: [FusionSettings], score: (FusionSettings) throws -> Score, key: (Score) -> [Double]
  ) rethrows -> (settings: FusionSettings, score: Score) {
    precondition(!grid.isEmpty, "nothing to fit over")
    let first = try score(grid[0])
    var best = (settings: grid[0], score: first, key: key(first))
    for settings in grid.dropFirst() {
      let scored = try score(settings)
      let k = key(scored)
      if best.key.lexicographicallyPrecedes(k) { best = (settings, scored, k) }
    }
    return (best.settings, best.score)
  }
}

extension PageRecall {
  /// Comparison key for fitting: top-5, then top-10, then top-1.
  fileprivate var key: [Double] { [Double(top5), Double(top10), Double(top1)] }
}
