import Foundation

/// The datasets shipped in the repository's `datasets/` folder, reachable by name.
///
/// Each data file is reachable by its name without extensions (`20news-bydate-test`); a folder
/// name also reaches its only data file, or its `-train` file (`20news`).
public enum BundledDatasets {
    /// One bundled data file.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var path: String
    }

    private static let dataExtensions = [".csv", ".tsv", ".jsonl", ".csv.gz", ".tsv.gz", ".jsonl.gz"]

    /// The `datasets/` folder: `$LATHE_DATASETS`, else `./datasets`, else the first `datasets`
    /// folder above the running executable, else the one in the source tree this was built from.
    public static var directory: String? {
        let fm = FileManager.default
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["LATHE_DATASETS"], !env.isEmpty { candidates.append(env) }
        candidates.append(fm.currentDirectoryPath + "/datasets")
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir.appendingPathComponent("datasets").path)
            dir = dir.deletingLastPathComponent()
        }
        // Sources/Lathe/Data/BundledDatasets.swift → repository root.
        let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(sourceRoot.appendingPathComponent("datasets").path)
        var isDirectory: ObjCBool = false
        return candidates.first { fm.fileExists(atPath: $0, isDirectory: &isDirectory) && isDirectory.boolValue }
    }

    /// Every bundled data file and folder alias, sorted by name.
    public static var entries: [Entry] {
        guard let root = directory,
              let folders = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        var result: [Entry] = []
        for folder in folders.sorted() {
            let folderPath = root + "/" + folder
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: folderPath) else { continue }
            let dataFiles = files.filter { f in dataExtensions.contains { f.lowercased().hasSuffix($0) } }.sorted()
            let named = dataFiles.map { Entry(name: Dataset.datasetName($0), path: folderPath + "/" + $0) }
            if named.count == 1 {
                result.append(Entry(name: folder, path: named[0].path))
            } else {
                if let train = named.first(where: { $0.name.hasSuffix("-train") }) {
                    result.append(Entry(name: folder, path: train.path))
                }
                result.append(contentsOf: named.filter { $0.name != folder })
            }
        }
        return result
    }

    /// The path of the bundled dataset called `name`, or `nil` when `name` is not one (or is
    /// an existing path, which always wins).
    public static func resolve(_ name: String) -> String? {
        if name.contains("/") || FileManager.default.fileExists(atPath: name) { return nil }
        return entries.first { $0.name == name }?.path
    }
}
