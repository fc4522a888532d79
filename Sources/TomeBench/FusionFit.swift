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

  /// The best of `grid` by `score`'s page recall, with its recall.
  public static func best(
    of grid: [FusionSettings] = FusionFit.grid, score: (FusionSettings) throws -> PageRecall
  ) rethrows -> (settings: FusionSettings, recall: PageRecall) {
    precondition(!grid.isEmpty, "nothing to fit over")
    var best: (settings: FusionSettings, recall: PageRecall)?
    for settings in grid {
      let recall = try score(settings)
      if let current = best, !current.recall.key.lexicographicallyPrecedes(recall.key) { continue }
      best = (settings, recall)
    }
    return best ?? (grid[0], PageRecall())
  }
}

extension PageRecall {
  /// Comparison key for fitting: top-5, then top-10, then top-1.
  fileprivate var key: [Int] { [top5, top10, top1] }
}
