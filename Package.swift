// swift-tools-version:6.0
import PackageDescription

/// vfiod: lends PCI devices to VMs and containers through Linux VFIO.
///
/// No Swift package dependencies: the HTTP layer is libmicrohttpd, the store is the system sqlite3,
/// and the kernel is reached through Glibc and a small C target.
let package = Package(
    name: "vfiod",
    products: [
        .executable(name: "vfiod", targets: ["vfiod"]),
    ],
    dependencies: [
        // Test-only: the contract test reads openapi/openapi.yaml.
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // C: system libraries and ioctl numbers.
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // zlib: gzip for the dashboard's assets (compressed once at start) and the audit archive's segments.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CVFIO"),
        // SHA-256's compression with the CPU's SHA instructions, for the audit chain (Store's SHA256 falls
        // back to portable Swift where the CPU lacks them).
        .target(name: "CSHA256"),
        // libcurl for the command-line client's HTTP (http, https, streams).
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // TLS for the HTTP listener on GnuTLS, libmicrohttpd's TLS library: key pairs swapped per handshake
        // (reload without a restart) and the client certificate's subject.
        .target(name: "CTLS", dependencies: ["CMicroHTTPD"], linkerSettings: [.linkedLibrary("gnutls")]),

        // The kernel: reading sysfs, ioctls, and the simulated host.
        .target(name: "VFIOCore", dependencies: ["CVFIO", "Workers"]),
        .target(name: "VFIOSimulator", dependencies: ["VFIOCore"]),

        // The service: inventory snapshots and policy, the store.
        .target(name: "Inventory", dependencies: ["VFIOCore", "Workers"]),
        // Store's migrations are the top-level `migrations/` folder, reached through the symlink
        // Sources/Store/Migrations and compiled into the binary.
        .target(name: "Store", dependencies: ["CSHA256", "CSQLite", "CZlib", "JSONString", "ServiceLog", "Workers"], resources: [.embedInCode("Migrations")]),

        // Assignments: leases of IOMMU groups through the journaled worker pool, recovery, audit.
        .target(name: "Assignments", dependencies: ["Inventory", "JSONString", "Store", "VFIOCore", "Workers", "ServiceLog"]),

        // HTTP: a libmicrohttpd server that knows nothing of VFIO, and the API on top of it.
        .target(name: "HTTPServer", dependencies: ["CMicroHTTPD", "CTLS", "CZlib", "JSONString", "Workers"]),
        .target(name: "API", dependencies: ["HTTPServer", "Inventory", "Assignments", "Store", "VFIOCore", "EventStream", "ServiceLog"]),

        // The event hub behind GET /v1/events: cursors, the ring, subscriptions and resume. Knows nothing of
        // HTTP, SQLite or VFIO.
        .target(name: "EventStream", dependencies: ["JSONString"]),

        // The service's one log (standard error), for every layer, and its one JSON string escaper.
        .target(name: "ServiceLog"),
        .target(name: "JSONString"),

        // Dedicated threads for blocking work (sysfs writes, SQLite), off Swift's cooperative pool.
        .target(name: "Workers"),

        // The command-line client (`vfiod status`, `vfiod lease` …): talks to a server over HTTP, knows nothing else of vfiod.
        .target(name: "Client", dependencies: ["CCurl"]),

        // Wiring and the command.
        .target(name: "App", dependencies: ["API", "Client", "EventStream", "HTTPServer", "Inventory", "Assignments", "ServiceLog", "Store", "VFIOCore", "VFIOSimulator", "Workers"],
                resources: [.embedInCode("Resources/openapi.yaml"), .embedInCode("Resources/ui")]),
        .executableTarget(name: "vfiod", dependencies: ["App"]),

        // A small blocking HTTP/1.1 client and fixture helpers for the tests and the benchmark.
        .target(name: "TestSupport", dependencies: ["VFIOCore", "VFIOSimulator", "Workers"]),

        // The benchmark's load generator (bench/run), not part of the service.
        .executableTarget(name: "vfiod-bench", dependencies: ["Store", "TestSupport", "CBenchEpoll", "CSQLite"], path: "bench/Sources/vfiod-bench"),
        .target(name: "CBenchEpoll", path: "bench/Sources/CBenchEpoll"),

        // Test support for the QEMU lab: a small C program that holds one device through VFIO and answers the
        // kernel's device request (cooperative unbind). Not part of the service; see Sources/vfio-opener/README.md.
        .executableTarget(name: "vfio-opener", dependencies: ["CVFIO"]),

        // The scenario suite, run against the simulated kernel (Tests/ScenarioTests) and the real kernel in the
        // QEMU lab (vfiod-scenarios --linux); it drives the real vfiod and vfio-opener binaries.
        .target(name: "Scenarios", dependencies: ["TestSupport", "VFIOCore", "VFIOSimulator"], exclude: ["README.md"]),
        .executableTarget(name: "vfiod-scenarios", dependencies: ["Scenarios"]),

        .testTarget(name: "VFIOCoreTests", dependencies: ["VFIOCore", "CVFIO", "VFIOSimulator", "TestSupport"]),
        .testTarget(name: "VFIOSimulatorTests", dependencies: ["VFIOSimulator", "VFIOCore", "TestSupport"]),
        .testTarget(name: "InventoryTests", dependencies: ["Inventory", "VFIOCore", "VFIOSimulator", "TestSupport"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "TestSupport"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "TestSupport"]),
        .testTarget(name: "WorkersTests", dependencies: ["Workers"]),
        .testTarget(name: "EventStreamTests", dependencies: ["EventStream"]),
        .testTarget(name: "AssignmentsTests", dependencies: ["Assignments", "Store", "VFIOCore", "VFIOSimulator", "TestSupport"]),
        .testTarget(name: "APITests", dependencies: ["API", "HTTPServer"]),
        .testTarget(name: "ClientTests", dependencies: ["Client"]),
        // Runs the built vfio-opener binary (found next to the test bundle); `swift build` builds it. With
        // --simulated it holds devices of a SimulatedKernel, for the simulator's cooperative-unbind tests.
        .testTarget(name: "OpenerTests", dependencies: ["TestSupport", "VFIOCore", "VFIOSimulator"]),
        // Runs the built vfiod and vfio-opener binaries; `swift build` builds them.
        .testTarget(name: "ScenarioTests", dependencies: ["Scenarios", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["App", "API", "HTTPServer", "Inventory", "Assignments", "Store", "VFIOCore", "VFIOSimulator", "TestSupport", "EventStream",
                                                          .product(name: "Yams", package: "Yams")]),
    ]
)
