// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "SpamFilter",
    dependencies: [
        // A checkout of Lathe next to this package (or a URL with a version).
        .package(name: "Lathe", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "SpamFilter",
            dependencies: [.product(name: "Lathe", package: "Lathe")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
