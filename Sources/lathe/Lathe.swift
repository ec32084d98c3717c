import ArgumentParser
import Foundation
import Lathe
import LatheServer
import Linalg

@main
struct LatheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lathe",
        abstract: "Classical machine learning: compare, cross-validate, train, export and predict.",
        version: latheVersion,
        subcommands: [DatasetsCommand.self, CompareCommand.self, CrossValidateCommand.self, TrainCommand.self,
                      PredictCommand.self, InspectCommand.self, VectorizeCommand.self, ServeCommand.self]
    )

    /// Runs the command and maps every failure to DESIGN.md's contract: one `error:` line on
    /// stderr, status 1 for bad input and 2 for bad usage.
    static func main() async {
        // Before the first suspension, while still on the main thread and before any task runs.
        if CommandLine.arguments.dropFirst().first == ServeCommand.configuration.commandName {
            PredictionServer.adoptEventLoopsAsGlobalExecutor()
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exitWithError(error)
        }
    }

    static func exitWithError(_ error: any Error) -> Never {
        let (message, status): (String, Int32)
        switch error {
        case let e as UsageError: (message, status) = (e.message, 2)
        case let e as InputError: (message, status) = (e.description, 1)
        case let e as FitError: (message, status) = (e.description, 1)
        case let e as LinalgError: (message, status) = (e.description, 1)
        case let e as ExitCode: Foundation.exit(e.rawValue)
        default:
            if exitCode(for: error) == .success { exit(withError: error) }  // --help, --version
            let text = Self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            (message, status) = (text.replacingOccurrences(of: "Error: ", with: ""), 2)
        }
        // Messages quote what they echo; this keeps the promise of one line for any that slips by.
        let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write(Data("error: \(line)\n".utf8))
        Foundation.exit(status)
    }
}
