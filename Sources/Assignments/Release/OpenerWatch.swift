import Foundation
import VFIOCore

/// What the release of one assignment has seen of its openers so far.
struct OpenerWatch: Sendable {
    let operation: GroupOperation
    let assignment: Assignment
    let kernel: any HostKernel
    var detail: OperationDetail
    private var lastSequence: [String: UInt64] = [:]
    /// Every cdev of the endpoints seen during this release: the kernel removes a cdev's node and its
    /// `vfio-dev/` entry as soon as the unbind starts, while its openers still hold it. Those that are no
    /// longer an endpoint's are followed only through removed-node links (their number may be reused).
    private var knownCdevs: Set<String> = []
    /// The last time an opener was seen holding on (for the requests the kernel made but did not log).
    private var heldUntil: Date?

    init(operation: GroupOperation, assignment: Assignment, kernel: any HostKernel) {
        self.operation = operation
        self.assignment = assignment
        self.kernel = kernel
        self.detail = operation.detail
    }

    /// Records the kernel log's current end for each endpoint: relays before it are not this release's.
    mutating func markLogBaseline() {
        var baseline: [String: UInt64] = [:]
        for device in assignment.endpoints {
            guard let address = PCIAddress(device.address) else { continue }
            if let last = kernel.kernelLog(mentioning: address, after: nil).map(\.sequence).max() { baseline[device.address] = last }
        }
        detail.logBaseline = baseline
        lastSequence = baseline
    }

    /// Scans the openers of the group's files and the kernel log (blocking reads); `sinceStart` reads
    /// the log from its beginning (relays already recorded are not repeated).
    mutating func refresh(at time: Date, sinceStart: Bool = false) {
        let endpoints = assignment.endpoints.compactMap { PCIAddress($0.address) }
        let cdevs = endpoints.compactMap { kernel.vfioCdev(of: $0) }
        knownCdevs.formUnion(cdevs)
        // Also those an opener was seen with (after a restart, or when the unbind began before the first look).
        let cdevPrefix = "/dev/vfio/devices/"
        knownCdevs.formUnion(detail.openers.flatMap(\.paths).filter { $0.hasPrefix(cdevPrefix) }.map { String($0.dropFirst(cdevPrefix.count)) })
        let removed = knownCdevs.subtracting(cdevs).sorted()
        let openers = kernel.openers(groups: [assignment.groupID], cdevs: cdevs, removedCdevs: removed)
        if !openers.isEmpty { heldUntil = time }
        let present = Set(openers.map(\.pid))
        for index in detail.openers.indices where detail.openers[index].goneAt == nil && !present.contains(detail.openers[index].pid) {
            detail.openers[index].goneAt = time
        }
        for opener in openers where !detail.openers.contains(where: { $0.pid == opener.pid && $0.goneAt == nil }) {
            detail.openers.append(.init(pid: opener.pid, commandLine: opener.commandLine, paths: opener.paths, since: time))
        }
        guard let baseline = detail.logBaseline else { return }
        for address in endpoints {
            let key = address.description
            let after = sinceStart ? baseline[key] : (lastSequence[key] ?? baseline[key])
            for record in kernel.kernelLog(mentioning: address, after: after)
            where record.text.contains("Relaying device request") {
                if !detail.requestsRelayed.contains(where: { $0.sequence == record.sequence }) {
                    detail.requestsRelayed.append(.init(sequence: record.sequence, text: record.text, seenAt: time))
                }
                lastSequence[key] = max(lastSequence[key] ?? 0, record.sequence)
            }
        }
        countRequests(endpoints)
    }

    /// Sets `detail.requestCount` from the relayed requests seen and how long an opener held on; never
    /// lowers it (a later look, after the openers left, knows less of the cadence).
    private mutating func countRequests(_ endpoints: [PCIAddress]) {
        let perDevice = endpoints.map { address in
            detail.requestsRelayed.filter { $0.text.contains(address.description) }.compactMap { request in
                DeviceRequestCount.requestNumber(in: request.text).map {
                    (number: $0, seenAt: request.seenAt?.timeIntervalSince1970 ?? .infinity)
                }
            }
        }
        // The unbinds run one device at a time: a device's wait is over once the next one's requests show.
        let starts = perDevice.map { $0.map(\.seenAt).min() }
        var total = 0, logged = 0
        for (index, sightings) in perDevice.enumerated() where !sightings.isEmpty {
            let start = starts[index] ?? .infinity
            let next = starts.compactMap { $0 }.filter { $0 > start }.min()
            let end = [heldUntil?.timeIntervalSince1970, next].compactMap { $0 }.min()
            let count = DeviceRequestCount(sightings: sightings, heldUntil: end, interval: kernel.deviceRequestInterval)
            total += count.total
            logged += count.logged
        }
        guard total > 0 else { return }
        let saved = detail.requestCount
        detail.requestCount = .init(total: max(total, saved?.total ?? 0), logged: max(logged, saved?.logged ?? 0))
    }
}
