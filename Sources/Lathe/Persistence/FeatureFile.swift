import Foundation
import Linalg

/// What `lathe vectorize` writes: a safetensors container with the fitted pipeline's tensors
/// (`vocabulary.bytes`, `vocabulary.offsets`, `idf`, scaler statistics) and the transformed
/// matrix as CSR (`X.indptr`, `X.indices` as I64, `X.data` as F64), its `shape` and the rows'
/// `labels` in metadata (DESIGN.md "Model files").
public enum FeatureFile {
    /// The `format` metadata value.
    public static let format = "lathe-features"

    /// Fits `pipeline` on every row of `dataset` and returns the container.
    /// - Throws: `UsageError`/`FitError` from the pipeline.
    public static func vectorize(_ dataset: Dataset, pipeline: PipelineSpec, created: Date = Date()) async throws -> SafeTensors {
        let (fitted, x) = try await pipeline.fitTransform(dataset.features)
        let csr: SparseMatrix
        switch x {
        case let .sparse(s): csr = s
        case let .dense(m): csr = SparseMatrix(m)
        }
        var tensors = fitted.tensors()
        tensors["X.indptr"] = Tensor(csr.rowOffsets.map(Int64.init), shape: [csr.rowCount + 1])
        tensors["X.indices"] = Tensor(csr.columnIndices.map(Int64.init), shape: [csr.storedCount])
        tensors["X.data"] = Tensor(csr.values, shape: [csr.storedCount])
        var featureNames: [String] = []
        if case let .numeric(_, names) = dataset.features { featureNames = names }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let metadata: [String: String] = [
            "format": format,
            "format_version": ModelFile.formatVersion,
            "pipeline": fitted.metadata.jsonText,
            "shape": JSONValue.array([.integer(Int64(csr.rowCount)), .integer(Int64(csr.columnCount))]).jsonText,
            "labels": JSONValue.array(dataset.targets.map { .string($0) }).jsonText,
            "feature_names": JSONValue.array(featureNames.map { .string($0) }).jsonText,
            "lathe_version": latheVersion,
            "created": formatter.string(from: created),
            "training": JSONValue.object(["rows": .integer(Int64(dataset.rowCount)), "data": .string(dataset.name),
                                          "data_sha256": .string(dataset.sha256)]).jsonText,
        ]
        return SafeTensors(metadata: metadata, tensors: tensors)
    }
}
