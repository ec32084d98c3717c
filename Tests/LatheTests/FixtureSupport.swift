import Foundation
@testable import Lathe
import Linalg
import TestSupport

/// Reads a JSON fixture written by `scripts/make_fixtures.py`.
func loadFixture<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
    guard let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil) else {
        throw InputError("fixture missing; run scripts/make_fixtures.py", at: name)
    }
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}

/// A bundled numeric dataset as a dense matrix and its numeric targets.
func loadNumeric(_ name: String) throws -> (x: Matrix, y: [Double]) {
    let dataset = try Dataset.load(repositoryRoot.appendingPathComponent("datasets/\(name)/\(name).csv").path)
    guard case let .numeric(x, _) = dataset.features else {
        throw InputError("not a numeric dataset", at: name)
    }
    return (x, try dataset.regressionTargets())
}
