/// The identity of a slot's build: SHA-256 over a canonical, versioned encoding of its `SlotSpec`.
///
/// A slot whose manifest carries the desired fingerprint needs no install, so the fingerprint must change exactly
/// when what runs would change, and never because of how Swift happens to encode a type. The encoding is therefore
/// written out here field by field, each string length-prefixed so no two specs share an encoding, and it starts
/// with its version. Changing how an existing field is encoded, or adding a field that every spec has, rebuilds
/// every slot on every host: that is an explicit event — bump `version`, say so in the release notes. A field
/// added later should be encoded only when it differs from its default, so existing slots keep their fingerprint.
public enum SlotFingerprint {
    /// The encoding's version, the first line of what is hashed.
    public static let version = 1

    /// The fingerprint of `spec`: 64 lowercase hex digits.
    public static func of(_ spec: SlotSpec) -> String {
        ContentDigest.hex(of: canonicalEncoding(of: spec).utf8)
    }

    /// The text that is hashed; public so a test can show exactly what changed when a golden value moves.
    public static func canonicalEncoding(of spec: SlotSpec) -> String {
        var encoder = Encoder()
        encoder.line("pinwheel-slot-fingerprint", "v\(version)")
        encodeInstall(spec, into: &encoder)
        encoder.line("programs", String(spec.programs.count))
        for program in spec.programs {
            encoder.line("program.name", string: program.name)
            encoder.line("program.supervisorName", string: program.supervisorName)
            encoder.line("program.command", string: program.command)
            encoder.line("program.processes", String(program.processes))
            encoder.line("program.ports", program.ports.map(String.init).joined(separator: ","))
            if let health = program.health {
                encoder.line("program.health.path", string: health.path)
                encoder.line("program.health.status", String(health.status))
                encoder.line("program.health.timeoutMilliseconds", String(health.timeout.milliseconds))
            } else {
                encoder.line("program.health", "none")
            }
            encodeSettings(program.settings, into: &encoder)
        }
        encodePrepareHook(spec.prepareHook, into: &encoder)
        return encoder.text
    }

    /// Where a slot is and what it installs from: the start of both the fingerprint and the build digest.
    private static func encodeInstall(_ spec: SlotSpec, into encoder: inout Encoder) {
        encoder.line("environment", string: spec.environment)
        encoder.line("app", string: spec.app)
        encoder.line("slot", spec.slot.rawValue)
        encoder.line("python", string: spec.python)
        switch spec.source {
        case let .index(url): encoder.line("source.index", string: url)
        case let .wheelhouse(path): encoder.line("source.wheelhouse", string: path)
        // Where the controller gets the files changes nothing on the host: the lock's hashes name them.
        case .ship: encoder.line("source.ship", "true")
        }
        encoder.line("requirements", string: spec.requirements)
        encoder.line("hashed", spec.hashed ? "true" : "false")
    }

    /// What the prepare hook does to a build (its command, and whose environment it runs with); encoded only when
    /// there is one, like the program settings.
    private static func encodePrepareHook(_ hook: ReleaseHooks.Hook?, into encoder: inout Encoder) {
        guard let hook else { return }
        encoder.line("hooks.prepare.command", string: hook.command)
        encoder.line("hooks.prepare.program", string: hook.program)
    }

    /// Program settings came after version 1: each is encoded only when set, so a slot that sets none keeps the
    /// fingerprint it had before they existed.
    private static func encodeSettings(_ settings: ProgramSettings, into encoder: inout Encoder) {
        if !settings.environment.isEmpty {
            encoder.line("program.environment", String(settings.environment.count))
            for key in settings.environment.keys.sorted() {
                encoder.line("program.environment.key", string: key)
                encoder.line("program.environment.value", string: settings.environment[key] ?? "")
            }
        }
        if let envFile = settings.envFile { encoder.line("program.envFile", string: envFile) }
        if let user = settings.user { encoder.line("program.user", string: user) }
        if let directory = settings.directory { encoder.line("program.directory", string: directory) }
        if let signal = settings.stopSignal { encoder.line("program.stopSignal", signal.rawValue) }
        if let timeout = settings.stopTimeout { encoder.line("program.stopTimeoutMilliseconds", String(timeout.milliseconds)) }
        if let seconds = settings.startSeconds { encoder.line("program.startSeconds", String(seconds)) }
    }

    /// The identity of what a slot installs: the interpreter, the package source and the pins. Two specs with the
    /// same build digest share a virtualenv, so a change of program settings restarts processes without reinstalling.
    public static func build(of spec: SlotSpec) -> String {
        var encoder = Encoder()
        encoder.line("pinwheel-slot-build", "v1")
        encodeInstall(spec, into: &encoder)
        // The prepare hook writes into the build (collected static files, say): another hook, another build.
        encodePrepareHook(spec.prepareHook, into: &encoder)
        return ContentDigest.hex(of: encoder.text.utf8)
    }

    private struct Encoder {
        var text = ""

        /// A value that is a number, a keyword or a slot: never contains a newline.
        mutating func line(_ key: String, _ value: String) {
            text += key + " " + value + "\n"
        }

        /// A free-form string, prefixed with its length in UTF-8 bytes so that it can hold anything.
        mutating func line(_ key: String, string value: String) {
            text += key + " " + String(value.utf8.count) + ":" + value + "\n"
        }
    }
}
