public import Foundation
import TomeStore

/// How `HybridRetriever` combines its evidence: the weight of each ranked list in reciprocal
/// rank fusion, the rank constant, and whether a query that names documents searches only them.
///
/// Equal-weight RRF lets a weak list drag a good one down (on financial filings BM25 matches
/// "revenue" and "2018" in every document); the best weights depend on the collection, so they
/// are fitted on questions about it (`tome bench retrieval financebench --fit`) and stored with
/// the index, where every later search reads them. An index without stored settings uses
/// ``standard``.
public struct FusionSettings: Sendable, Codable, Hashable {
  /// Weight of the BM25 list in the fusion (0 leaves it out of hybrid search).
  public var bm25Weight: Double
  /// Weight of the dense list in the fusion.
  public var denseWeight: Double
  /// RRF's rank constant k (60 in Cormack et al.); smaller trusts the heads of the lists more.
  public var rankConstant: Double
  /// When the query names documents (see `DocumentRanker`), search only the documents named
  /// at least this fraction as strongly as the best one; nil searches the whole collection.
  public var documentFocus: Double?
  /// When documents are named, the weight of the whole-collection lists beside the lists of the
  /// named documents (weight 1): 0 searches the named documents only; above 0 a name that
  /// matches by accident ("know" in `know.txt`) cannot hide the answer elsewhere.
  public var unfocusedWeight: Double
  /// Weight, in hybrid search, of a third list: BM25 over the chunks' headers alone (document
  /// title, section, page title). A question that says where its answer is ("…shown in the
  /// balance sheet") names a page title that the page's figures never repeat, while its
  /// text's words ("inventories", "FY2019") also fill every discussion of them; 0 leaves the
  /// list out.
  public var headerWeight: Double

  public init(
    bm25Weight: Double = 1, denseWeight: Double = 1, rankConstant: Double = 60, documentFocus: Double? = 1,
    unfocusedWeight: Double = 0.5, headerWeight: Double = 0.5
  ) {
    precondition(
      bm25Weight >= 0 && denseWeight >= 0 && rankConstant >= 0 && unfocusedWeight >= 0 && headerWeight >= 0,
      "fusion weights must not be negative")
    self.bm25Weight = bm25Weight
    self.denseWeight = denseWeight
    self.rankConstant = rankConstant
    self.documentFocus = documentFocus
    self.unfocusedWeight = unfocusedWeight
    self.headerWeight = headerWeight
  }

  /// Equal weights, k = 60, named documents searched first with the whole collection at half
  /// weight beside them, headers at half weight: the settings of an unfitted index.
  public static let standard = FusionSettings()

  /// One line for reports: `bm25 0.50 dense 1.00 k 60 focus 1.00 unfocused 0.50 headers 0.50`.
  public var summary: String {
    String(
      format: "bm25 %.2f dense %.2f k %.0f focus %@ unfocused %.2f headers %.2f", bm25Weight, denseWeight, rankConstant,
      documentFocus.map { String(format: "%.2f", $0) } ?? "off", unfocusedWeight, headerWeight)
  }
}

extension FusionSettings {
  enum CodingKeys: String, CodingKey {
    case bm25Weight, denseWeight, rankConstant, documentFocus, unfocusedWeight, headerWeight
  }

  /// Decodes stored settings; those stored before the header list existed get the standard
  /// header weight, the rest as fitted.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      bm25Weight: try c.decode(Double.self, forKey: .bm25Weight), denseWeight: try c.decode(Double.self, forKey: .denseWeight),
      rankConstant: try c.decode(Double.self, forKey: .rankConstant),
      documentFocus: try c.decodeIfPresent(Double.self, forKey: .documentFocus),
      unfocusedWeight: try c.decode(Double.self, forKey: .unfocusedWeight),
      headerWeight: try c.decodeIfPresent(Double.self, forKey: .headerWeight) ?? FusionSettings.standard.headerWeight)
  }
}

extension Collection {
  /// The fusion settings stored with the index, or ``FusionSettings/standard``.
  /// - Throws: `StoreError` when the index cannot be read; stored settings that do not decode
  ///   (written by a newer Tome) are a `DecodingError`.
  public func fusionSettings() throws -> FusionSettings {
    guard let json = try store.meta(.fusion) else { return .standard }
    return try JSONDecoder().decode(FusionSettings.self, from: Data(json.utf8))
  }

  /// Stores `settings` with the index (nil forgets them: back to the standard settings).
  public func setFusionSettings(_ settings: FusionSettings?) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    try store.setMeta(.fusion, try settings.map { String(decoding: try encoder.encode($0), as: UTF8.self) })
  }
}
