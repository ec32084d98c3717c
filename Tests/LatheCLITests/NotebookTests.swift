import Foundation
import TestSupport
import Testing

/// One shell command of a notebook and the output the notebook shows for it.
struct NotebookCommand {
    let line: Int
    let command: String
    let expected: [String]
}

/// The runnable parts of a plain-text notebook. A command is an indented line `    $ CMD`;
/// its output is the indented lines that follow (blank lines included while the block goes
/// on), up to the next command or unindented text. In the output, a line `...` stands for any
/// number of lines and `...` inside a line for any text (timings, long values).
/// `    >>> ` lines (Python) are shown, not run.
func notebookCommands(_ text: String) -> [NotebookCommand] {
    let lines = text.components(separatedBy: "\n")
    let indent = "    "
    func isCommand(_ line: String) -> Bool { line.hasPrefix(indent + "$ ") }
    func isBlock(_ line: String) -> Bool { line.hasPrefix(indent) && !isCommand(line) && !line.hasPrefix(indent + ">>> ") }
    var commands: [NotebookCommand] = []
    var i = 0
    while i < lines.count {
        guard isCommand(lines[i]) else { i += 1; continue }
        let start = i
        var expected: [String] = []
        i += 1
        while i < lines.count {
            if isBlock(lines[i]) {
                expected.append(String(lines[i].dropFirst(indent.count)))
            } else if lines[i].isEmpty, let next = lines[i...].first(where: { !$0.isEmpty }), isBlock(next) {
                expected.append("")
            } else {
                break
            }
            i += 1
        }
        commands.append(NotebookCommand(line: start + 1, command: String(lines[start].dropFirst(indent.count + 2)), expected: expected))
    }
    return commands
}

/// True when `actual` matches `expected` line by line with the notebook's `...` wildcards.
/// Runs of spaces count as one: a table's column widths follow its widest cell, which can be
/// a masked timing.
func matchesNotebookOutput(_ actual: [String], _ expected: [String]) -> Bool {
    func collapsed(_ text: String) -> String {
        text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
    func lineMatches(_ rawLine: String, _ rawPattern: String) -> Bool {
        let line = collapsed(rawLine), pattern = collapsed(rawPattern)
        let parts = pattern.components(separatedBy: "...")
        guard parts.count > 1 else { return line == pattern }
        guard line.hasPrefix(parts[0]) else { return false }
        var rest = line.dropFirst(parts[0].count)
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return rest.hasSuffix(parts.last!)
    }
    func match(_ a: Int, _ e: Int) -> Bool {
        if e == expected.count { return a == actual.count }
        if expected[e].trimmingCharacters(in: .whitespaces) == "..." {
            return (a...actual.count).contains { match($0, e + 1) }
        }
        return a < actual.count && lineMatches(actual[a], expected[e]) && match(a + 1, e + 1)
    }
    return match(0, 0)
}

@Suite struct NotebookTests {
    static let folder = repositoryRoot.appendingPathComponent("notebooks-txt")
    static let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".txt") }.sorted()

    /// Every notebook's commands, run in order in one fresh folder with the built `lathe` (and
    /// the example program) on the PATH, print what the notebook shows.
    @Test(arguments: names)
    func notebookOutputIsCurrent(_ name: String) throws {
        let text = try String(contentsOf: Self.folder.appendingPathComponent(name), encoding: .utf8)
        let commands = notebookCommands(text)
        #expect(!commands.isEmpty, "\(name) has no commands")
        let directory = try makeTemporaryDirectory()
        for command in commands {
            let result = try runShell(command.command, in: directory)
            let actual = result.output.components(separatedBy: "\n").map(\.droppingTrailingSpaces).reversed()
                .drop(while: \.isEmpty).reversed() as [String]
            let failing = command.expected.first?.hasPrefix("error:") == true
            #expect((result.status == 0) != failing, "\(name):\(command.line): exit \(result.status)\n\(result.output)")
            #expect(matchesNotebookOutput(actual, command.expected),
                    "\(name):\(command.line): `\(command.command)` printed\n\(actual.joined(separator: "\n"))\nbut the notebook shows\n\(command.expected.joined(separator: "\n"))")
        }
    }

    /// The Swift program the library walkthrough lists is the example target's source, so the
    /// listing compiles (it is built with the tests) and its output is checked above.
    @Test func libraryListingIsTheExampleSource() throws {
        let text = try String(contentsOf: Self.folder.appendingPathComponent("04-swift-library.txt"), encoding: .utf8)
        for file in ["Package.swift", "Sources/SpamFilter/main.swift"] {
            let source = try String(contentsOf: repositoryRoot.appendingPathComponent("Examples/SpamFilter/" + file), encoding: .utf8)
            let listing = source.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "    " + $0 }
                .joined(separator: "\n")
            #expect(text.contains(listing), "04-swift-library.txt does not list Examples/SpamFilter/\(file) as it is")
        }
    }

    /// The matcher itself: wildcards match, edited numbers do not.
    @Test func wildcardsMatchButNumbersMust() {
        #expect(matchesNotebookOutput(["a 0.9772 1.234", "b", "c"], ["a 0.9772 ...", "..."]))
        #expect(!matchesNotebookOutput(["a 0.9772 1.234"], ["a 0.9773 ..."]))
        #expect(matchesNotebookOutput(["x", "y", "z"], ["x", "...", "z"]))
        #expect(matchesNotebookOutput(["a   0.97   0.98"], ["a 0.97  0.98"]))
        #expect(!matchesNotebookOutput(["a 0.97 0.98"], ["a 0.970.98"]))
        #expect(!matchesNotebookOutput(["x", "y"], ["x"]))
        #expect(matchesNotebookOutput(["{\"a\":1.5,\"b\":2}"], ["{\"a\":...,\"b\":2}"]))
        let parsed = notebookCommands("text\n\n    $ lathe x\n    out 1\n\n    out 2\n\nmore text\n    $ y\n")
        #expect(parsed.map(\.command) == ["lathe x", "y"])
        #expect(parsed[0].expected == ["out 1", "", "out 2"])
        #expect(parsed[1].expected.isEmpty)
    }
}

/// Runs `command` with bash in `directory`, stdout and stderr together (as a terminal shows
/// them), with the built products first on the PATH.
private func runShell(_ command: String, in directory: URL) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", command]
    process.currentDirectoryURL = directory
    var environment = ProcessInfo.processInfo.environment
    environment["LATHE_DATASETS"] = repositoryRoot.appendingPathComponent("datasets").path
    environment["PATH"] = latheBinary.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

private extension String {
    var droppingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
