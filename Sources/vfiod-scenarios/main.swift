import Foundation
import Scenarios

/// `vfiod-scenarios`: runs the scenario suite against the simulated kernel or this machine's kernel and prints
/// one line per scenario; exits 1 when any failed, 2 on a usage error.
let usage = """
usage: vfiod-scenarios --vfiod PATH --opener PATH (--simulate TOPOLOGY | --linux) [--work DIR] [--only NAME,...] [--quiet]
                       [--results DIR] [--timing-cycles N]
       vfiod-scenarios --list
scenarios: \(ScenarioSuite.names.joined(separator: ", "))
"""

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("vfiod-scenarios: \(message)\n\(usage)\n".utf8))
    exit(2)
}

var options: [String: String] = [:]
var flags: Set<String> = []
var arguments = Array(CommandLine.arguments.dropFirst())
while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    switch argument {
    case "--linux", "--quiet", "--list", "--help":
        flags.insert(argument)
    case "--vfiod", "--opener", "--simulate", "--work", "--only", "--results", "--timing-cycles":
        guard !arguments.isEmpty else { fail("\(argument) needs a value") }
        options[argument] = arguments.removeFirst()
    default:
        fail("unknown argument \(argument)")
    }
}
if flags.contains("--help") { print(usage); exit(0) }
if flags.contains("--list") { ScenarioSuite.names.forEach { print($0) }; exit(0) }
guard let vfiod = options["--vfiod"], let opener = options["--opener"] else { fail("--vfiod and --opener are required") }
let host: ScenarioEnvironment.Host
switch (options["--simulate"], flags.contains("--linux")) {
case (let topology?, false): host = .simulated(topology: topology)
case (nil, true): host = .linux
default: fail("give exactly one of --simulate TOPOLOGY and --linux")
}
let names = options["--only"].map { $0.split(separator: ",").map(String.init) } ?? ScenarioSuite.names
if let unknown = names.first(where: { !ScenarioSuite.names.contains($0) }) { fail("no scenario \(unknown)") }

let work = options["--work"] ?? NSTemporaryDirectory() + "vfiod-scenarios-\(getpid())"
do {
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
} catch {
    fail("cannot create \(work): \(error)")
}
let quiet = flags.contains("--quiet")
var environment = ScenarioEnvironment(vfiod: vfiod, opener: opener, host: host, workDirectory: work, log: { note in
    if !quiet { FileHandle.standardError.write(Data((note + "\n").utf8)) }
})
environment.resultsDirectory = options["--results"]
if let text = options["--timing-cycles"] {
    guard let cycles = Int(text), cycles > 0 else { fail("--timing-cycles needs a whole number above 0") }
    environment.timingCycles = cycles
}

var failures = 0
for name in names {
    let result = ScenarioSuite.runBlocking(name, in: environment)
    FileHandle.standardOutput.write(Data((result.line + "\n").utf8))
    if result.failed { failures += 1 }
}
if options["--work"] == nil { try? FileManager.default.removeItem(atPath: work) }
exit(failures == 0 ? 0 : 1)
