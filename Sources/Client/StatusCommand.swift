/// `vfiod status`: the host, its kernel's VFIO support, counts by state, and what stands in the way.
enum StatusCommand {
    static let command = ClientCommand(
        name: "status", synopsis: "status",
        summary: "The host: kernel, IOMMU, vfio-pci, cdev and iommufd, devices by state, and notes on what keeps it from lending.",
        details: """
        Reads GET /v1/host. Each note says why the host cannot lend something and what to do (no IOMMU,
        interrupt remapping off, vfio-pci not loaded, nothing allowed).
        """,
        options: [], run: run)

    private static let states = ["available", "binding", "assigned", "releasing", "quarantined", "protected", "host"]

    static func run(_ arguments: inout Arguments, _ session: Session) throws(ClientError) -> Int32 {
        _ = try arguments.positionals(max: 0, command: "status")
        let (reply, host) = try session.api.get("/v1/host")
        if session.json {
            session.printBody(reply)
            return 0
        }
        let terminal = session.terminal
        func yes(_ key: String) -> String { terminal.state(host.bool(key) == true ? "yes" : "no") }
        var details = Details()
        details.add("server", session.settings.server)
        details.add("host", "\(host.text("backend")), kernel \(host.text("kernelRelease")), root \(host.text("hostRoot"))")
        details.add("boot id", host.text("bootId"))
        details.add("IOMMU", yes("iommuPresent"))
        details.add("vfio-pci", host.bool("vfioPciLoaded") == true ? terminal.state("yes") + " (loaded)" : terminal.state("no") + " (not loaded)")
        details.add("vfio", "container \(yes("vfioContainerPresent")), cdev \(yes("cdevSupported")), iommufd \(yes("iommufdPresent"))")
        if let counts = host.object("counts") {
            let byState = counts.object("byState")
            let parts = states.compactMap { state -> String? in
                guard let count = byState?.int(state), count > 0 else { return nil }
                return "\(count) \(terminal.state(state))"
            }
            details.add("devices", "\(counts.text("devices")) in \(counts.text("groups")) groups" + (parts.isEmpty ? "" : ": " + parts.joined(separator: ", ")))
        }
        if let inventory = host.object("inventory") {
            details.add("inventory", "generation \(inventory.text("generation")), taken \(inventory.text("takenAt")), scan \(Durations.milliseconds(inventory.double("scanDurationMs")))")
        }
        terminal.line(details.render())
        let notes = host.strings("notes")
        if !notes.isEmpty {
            terminal.line()
            terminal.line(terminal.paint("Notes:", .bold))
            for note in notes { terminal.line("  " + terminal.paint("!", .yellow) + " " + note) }
        }
        return 0
    }
}
