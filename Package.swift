// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Lathe",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Linalg", targets: ["Linalg"]),
        .library(name: "Lathe", targets: ["Lathe"]),
        .executable(name: "lathe", targets: ["lathe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLapack",
            pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev", "libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(name: "CKernels"),
        .target(
            name: "Linalg",
            dependencies: [
                "CLapack",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        .target(
            name: "Lathe",
            dependencies: [
                "Linalg",
                "CKernels",
                "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "LatheServer",
            dependencies: [
                "Lathe",
                "Linalg",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "lathe",
            dependencies: [
                "Lathe",
                "LatheServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "lathe-bench",
            dependencies: ["Lathe", "Linalg"],
            path: "Benchmarks/lathe-bench"
        ),
        // notebooks-txt/04-swift-library.txt's program, built here so the suite compiles and runs it.
        .executableTarget(
            name: "spam-filter",
            dependencies: ["Lathe"],
            path: "Examples/SpamFilter/Sources/SpamFilter"
        ),
        .target(name: "TestSupport", dependencies: ["Linalg"], path: "Tests/TestSupport"),
        .testTarget(name: "LinalgTests", dependencies: ["Linalg", "TestSupport"]),
        .testTarget(name: "LatheTests", dependencies: ["Lathe", "Linalg", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheServerTests", dependencies: [
            "LatheServer", "Lathe", "TestSupport",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "LatheCLITests", dependencies: [
            "Lathe", "TestSupport", "lathe", "spam-filter",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
