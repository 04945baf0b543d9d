import Foundation

/// `cdev-path`: on a kernel with the VFIO device cdev, a lease's `devicePaths` include
/// `/dev/vfio/devices/vfioX`, the opener can open it through iommufd, and a reset uses the cdev path.
enum CdevScenario {
    static func run(_ context: ScenarioContext) throws {
        let api = try context.startVFIOD()
        let host = try api.get("/v1/host").json
        guard host["cdevSupported"] as? Bool == true, host["iommufdPresent"] as? Bool == true else {
            throw ScenarioSkip("the kernel has no VFIO device cdev or no /dev/iommu (cdevSupported \(host["cdevSupported"] ?? "-"), iommufdPresent \(host["iommufdPresent"] ?? "-"))")
        }
        let address = try LabInventory(api).alone(LabDevices.edu).string("address")
        let lease = try api.lease(["device": address])
        guard let cdev = lease.devicePaths.first(where: { $0.hasPrefix("/dev/vfio/devices/vfio") }) else {
            throw ScenarioFailure("devicePaths \(lease.devicePaths) have no /dev/vfio/devices/vfioX")
        }
        let name = String(cdev.split(separator: "/").last!)
        let device = try api.device(address)
        try check(device.optionalString("vfioCdev") == name, "the device's vfioCdev is \(device.optionalString("vfioCdev") ?? "null"), devicePaths say \(name)")
        try check(FileManager.default.fileExists(atPath: context.hostPath(String(cdev.dropFirst()))), "\(cdev) does not exist")

        // The simulated opener names the device for its request FIFO; the real one finds it from the cdev.
        let named = context.environment.isSimulated ? ["--device", address] : []
        let opener = try context.startOpener(["--cdev", cdev, "--on-request", "close", "--hold-seconds", "1"] + named
                                             + OpenerSteps.hostArguments(context))
        try OpenerSteps.expectReady(opener, cdev)
        let status = opener.waitForExit()
        try check(status == 0, "vfio-opener on \(cdev) exited \(status): \(opener.transcript)")

        let operation = try api.reset(address, method: "hot")
        try check(operation.string("state") == "succeeded",
                  "hot reset of \(address) ended \(operation.string("state")): \(operation.optionalString("error") ?? "")")
        try check(jsonText(operation).contains("cdev"), "the reset's steps and detail do not say it used the cdev path: \(jsonText(operation).prefix(400))")
        try api.release(lease.id)
        try api.expectDevice(address, driver: nil, state: "available", "after the release")
    }
}
