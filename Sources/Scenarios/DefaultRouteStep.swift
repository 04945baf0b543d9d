import Foundation
import TestSupport

/// Gives a NIC the host's default route for the length of a check, so that vfiod must protect it: on Linux
/// with `ip` (link up, `default dev IFACE`), on the simulated kernel by writing the tree's `proc/net/route`.
/// `restore()` puts things back as they were.
struct DefaultRouteStep {
    let context: ScenarioContext
    let interface: String
    private let savedRoutes: Data?

    /// Routes the host's default traffic through the first interface of the function at `address`.
    init(_ context: ScenarioContext, nicAddress address: String) throws {
        self.context = context
        let net = context.hostPath("sys/bus/pci/devices/\(address)/net")
        guard let name = (try? FileManager.default.contentsOfDirectory(atPath: net))?.sorted().first else {
            throw ScenarioFailure("\(address) has no network interface under \(net)")
        }
        interface = name
        let table = context.hostPath("proc/net/route")
        if context.environment.isSimulated {
            savedRoutes = FileManager.default.contents(atPath: table)
            let routes = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
                + "\(name)\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n"
            try FileManager.default.createDirectory(atPath: context.hostPath("proc/net"), withIntermediateDirectories: true)
            try Data(routes.utf8).write(to: URL(fileURLWithPath: table))
        } else {
            savedRoutes = nil
            try Self.ip(["link", "set", "dev", name, "up"])
            try Self.ip(["route", "add", "default", "dev", name])
        }
    }

    /// Removes the route (and, on Linux, takes the link down again).
    func restore() {
        if context.environment.isSimulated {
            let table = context.hostPath("proc/net/route")
            if let savedRoutes { try? savedRoutes.write(to: URL(fileURLWithPath: table)) } else { try? FileManager.default.removeItem(atPath: table) }
        } else {
            try? Self.ip(["route", "del", "default", "dev", interface])
            try? Self.ip(["link", "set", "dev", interface, "down"])
        }
    }

    private static func ip(_ arguments: [String]) throws {
        let tool = FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") ? "/usr/sbin/ip" : "/sbin/ip"
        let result = try ChildProcess.run(tool, arguments)
        guard result.exit.status == 0 else {
            throw ScenarioFailure("ip \(arguments.joined(separator: " ")) exited \(result.exit.status): \(result.err)")
        }
    }
}
