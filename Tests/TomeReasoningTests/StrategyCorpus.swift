import Foundation
import TomeCore
import TomeKit
import TomeReasoning
import TomeTestSupport

/// A tiny real collection for strategy tests: seven short text files (two philosophers, two
/// composers, two cities, honey bees) ingested into SQLite, embedded with the real encoder and
/// read through the real `CollectionReader`.
///
/// Each file is 139–151 words, one chunk under the chunker's 256 tokens, and two files never
/// fit one 256-word agent window, so with `ScriptedChatModel` (a token is a word) every window
/// is exactly one document.
final class StrategyCorpus: Sendable {
  let directory: TemporaryDirectory
  let collection: TomeKit.Collection
  let embedder: any TextEmbedder
  let retriever: HybridRetriever
  let prompts = PromptLibrary(directory: SharedData.repositoryRoot.appendingPathComponent("Prompts"))

  /// Built once for all the suites that read it (ingest and embedding take a few seconds).
  private static let shared = Result { try StrategyCorpus() }

  static func load() throws -> StrategyCorpus { try shared.get() }

  private init() throws {
    directory = try TemporaryDirectory("tome-strategy")
    for (name, text) in Self.files { try directory.write("corpus/\(name)", text) }
    let encoder = try ModelDirectory(url: SharedData.models).loadEncoder()
    embedder = encoder.embedder
    collection = try Collection(location: IndexLocation(directory: directory.url.appendingPathComponent("ix")), create: true)
    try collection.sync(paths: [directory.url.appendingPathComponent("corpus")], encoder: encoder)
    retriever = try HybridRetriever(collection: collection, embedder: encoder.embedder)
  }

  /// The real reader over the index.
  func reader(k: Int = 4) -> CollectionReader {
    CollectionReader(retriever: retriever, configuration: .init(k: k))
  }

  /// A strategy context over the real reader and encoder with `model`.
  func context(_ model: any LanguageModel, k: Int = 4, maxTokens: Int = 64) -> AnsweringContext {
    AnsweringContext(
      model: model, embedder: embedder, prompts: prompts, reader: reader(k: k), parameters: .greedy(maxTokens: maxTokens))
  }

  /// Lines `first...last` (1-based) of the file at `path`.
  static func lines(_ path: String, _ first: Int, _ last: Int) throws -> [String] {
    let all = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
    return all[(first - 1)...(last - 1)].map(String.init)
  }

  /// Lines in the file at `path`.
  static func lineCount(_ path: String) throws -> Int {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).count
  }

  static let files: [(name: String, text: String)] = [
    (
      "kant.txt",
      """
      Immanuel Kant

      Immanuel Kant was a German philosopher of the Enlightenment. He was
      born on 22 April 1724 in Königsberg, in the Kingdom of Prussia, and he
      lived in that city for his whole life.
      Kant studied at the University of Königsberg and later taught logic and
      metaphysics there for more than forty years. His best known book, the
      Critique of Pure Reason, appeared in 1781. In it he argued that space
      and time are forms of our intuition rather than things that exist on
      their own, and that the mind shapes the experience it receives.
      Kant never married. His daily walks were so regular that his neighbours
      were said to set their clocks by them. Late in life he wrote on ethics,
      on beauty and on perpetual peace between nations. He died in Königsberg
      on 12 February 1804 and was buried at the cathedral of the city.
      """
    ),
    (
      "hume.txt",
      """
      David Hume

      David Hume was a Scottish philosopher, historian and essayist. He was
      born on 7 May 1711 in Edinburgh, the capital of Scotland, to a family of
      modest landowners from the Borders.
      Hume entered the University of Edinburgh at about the age of twelve. His
      first work, A Treatise of Human Nature, appeared in 1739 and, in his own
      words, fell dead-born from the press. He argued that our belief in cause
      and effect rests on custom and habit rather than on reason alone.
      For many years Hume was better known as a historian than as a thinker.
      His History of England ran to six volumes and sold well. He served as a
      secretary to the British embassy in Paris, where the salons welcomed him.
      Hume died in Edinburgh on 25 August 1776, a calm and cheerful man to the
      end, and was buried on Calton Hill.
      """
    ),
    (
      "konigsberg.txt",
      """
      Königsberg

      Königsberg was a city on the Pregel river near the Baltic Sea. It was
      founded in 1255 by the Teutonic Knights and named in honour of King
      Ottokar II of Bohemia.
      For centuries Königsberg was the capital of the Duchy of Prussia and
      later of the province of East Prussia. Its university, the Albertina,
      opened in 1544 and drew students from across the Baltic lands. The city
      was a busy port for grain, amber and timber.
      Seven bridges joined the islands of the Pregel to the banks. In 1736 the
      mathematician Leonhard Euler proved that no walk can cross each of them
      exactly once, a result that began the study of graphs.
      After the Second World War the city was given to the Soviet Union and
      renamed Kaliningrad. Today it belongs to Russia, and few of its old
      buildings remain standing apart from the rebuilt cathedral.
      """
    ),
    (
      "edinburgh.txt",
      """
      Edinburgh

      Edinburgh is the capital city of Scotland. It stands on the southern
      shore of the Firth of Forth, and its castle sits on the rock of an
      extinct volcano high above the streets.
      The Old Town grew along the Royal Mile, a street that runs from the
      castle down to the Palace of Holyroodhouse. The New Town, with its wide
      streets and squares, was planned in the eighteenth century.
      The University of Edinburgh was founded in 1583. In the eighteenth
      century the city was a centre of the Scottish Enlightenment, and writers
      such as Adam Smith met in its clubs and taverns to argue about trade,
      morals and the nature of knowledge.
      Every August the city holds the Edinburgh Festival Fringe, the largest
      arts festival in the world, when thousands of shows fill its theatres,
      churches, halls and courtyards for three weeks.
      """
    ),
    (
      "bach.txt",
      """
      Johann Sebastian Bach

      Johann Sebastian Bach was a German composer and organist of the Baroque
      period. He was born on 31 March 1685 in Eisenach, in the duchy of
      Saxe-Eisenach, into a large family of town musicians.
      Bach held posts as an organist in Arnstadt and Mühlhausen and as a court
      musician in Weimar and Köthen. In 1723 he became cantor of the St.
      Thomas School in Leipzig, where he wrote a cantata for almost every
      Sunday of the church year.
      His works include the Brandenburg Concertos, the Mass in B minor, the St.
      Matthew Passion and the Well-Tempered Clavier. He never travelled far
      from central Germany, and he never wrote an opera.
      Bach died in Leipzig on 28 July 1750. His music was little played for a
      time, until Felix Mendelssohn revived the St. Matthew Passion in 1829.
      """
    ),
    (
      "handel.txt",
      """
      George Frideric Handel

      George Frideric Handel was a German-born composer of the Baroque period
      who spent most of his working life in London. He was born on 23 February
      1685 in Halle, in the Duchy of Magdeburg, a month before Bach.
      As a young man Handel studied law, then played the violin in the opera
      house of Hamburg and spent several years in Italy writing operas and
      cantatas. He settled in London in 1712.
      In 1727 Handel became a naturalised British subject. He wrote more than
      forty operas for the London stage and later turned to English oratorio.
      His Messiah was first performed in Dublin in 1742, and his Water Music
      was played for King George I on a barge on the Thames.
      Handel went blind in his last years. He died in London on 14 April 1759
      and was buried in Westminster Abbey.
      """
    ),
    (
      "bees.txt",
      """
      Honey bees

      A colony of honey bees has one queen, a few hundred drones in summer and
      tens of thousands of workers. The queen lays up to two thousand eggs a
      day during the spring and the early summer.
      Workers change their tasks as they age. Young bees clean cells and feed
      the larvae; older ones build comb from wax, guard the entrance of the
      hive and finally fly out to gather nectar, pollen and water.
      A forager that finds a good patch of flowers returns to the hive and
      performs a waggle dance on the comb. The angle of the dance shows the
      direction of the flowers relative to the sun, and its length shows how
      far away they are.
      Nectar is stored in the comb and fanned by the wings of the workers until
      enough water evaporates to turn it into honey, which feeds the colony
      through the winter.
      """
    ),
  ]
}
