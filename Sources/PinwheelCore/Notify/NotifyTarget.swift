/// Where the controller sends an event about an environment: a chat or an alerting system, from `notify:` in a
/// policy or `watch --notify`.
///
/// The URL itself is never part of the config: webhook URLs carry their credentials (Slack's path is a token), and
/// the config repository is read by everyone who reviews it. A target names where the controller finds the URL —
/// an environment variable or a file on the controller's machine — and the controller reads it when it sends.
public struct NotifyTarget: Sendable, Hashable, Codable, CustomStringConvertible {
    public var format: Format
    public var url: SecretLocation
    /// The events this target receives; every kind when the config names none.
    public var events: [NotificationKind]

    /// As the config names them: `type`, `url`, `events`.
    private enum CodingKeys: String, CodingKey {
        case format = "type", url, events
    }

    public init(format: Format, url: SecretLocation, events: [NotificationKind] = NotificationKind.allCases) {
        self.format = format
        self.url = url
        self.events = events
    }

    public enum Format: String, Sendable, Hashable, Codable, CaseIterable {
        /// A JSON object per event, Pinwheel's own documented schema.
        case webhook
        /// A Slack-compatible incoming-webhook payload: `{"text": …, "blocks": […]}`.
        case slack
    }

    /// Where a secret is read on the controller: never the secret itself.
    public enum SecretLocation: Sendable, Hashable, Codable, CustomStringConvertible {
        /// An environment variable of the controller's process.
        case environment(String)
        /// An absolute path to a file whose first line is the secret.
        case file(String)

        private enum CodingKeys: String, CodingKey {
            case env, file
        }

        /// Encoded as the config writes it: `{"env": NAME}` or `{"file": PATH}`.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case let .environment(name): try container.encode(name, forKey: .env)
            case let .file(path): try container.encode(path, forKey: .file)
            }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let name = try container.decodeIfPresent(String.self, forKey: .env) {
                self = .environment(name)
            } else {
                self = .file(try container.decode(String.self, forKey: .file))
            }
        }

        /// Safe to log: names where the secret is, never what it is.
        public var description: String {
            switch self {
            case let .environment(name): return "env \(name)"
            case let .file(path): return "file \(path)"
            }
        }

        /// Whether `name` can be an environment variable's name: letters, digits and `_`, not starting with a digit.
        public static func isVariableName(_ name: String) -> Bool {
            guard let first = name.utf8.first, !(0x30...0x39).contains(first), name.utf8.count <= 128 else { return false }
            return name.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
        }

        /// Whether `path` can name the secret's file: absolute, one line, no `..`.
        public static func isFilePath(_ path: String) -> Bool {
            path.hasPrefix("/") && path.utf8.count <= 4096
                && !path.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
                && !path.split(separator: "/").contains("..")
        }
    }

    /// Whether this target receives `kind`.
    public func receives(_ kind: NotificationKind) -> Bool {
        events.contains(kind)
    }

    /// Safe to log: the format and where the URL is read, e.g. `slack (env SLACK_WEBHOOK_URL)`.
    public var description: String {
        "\(format.rawValue) (\(url))"
    }

    /// Reads `watch --notify`: `FORMAT=env:NAME` or `FORMAT=file:/path`, e.g. `slack=env:SLACK_WEBHOOK_URL`.
    /// A literal URL is refused there too: a command line is visible to every user of the machine (`ps`).
    public init(flag: String) throws(NotifyFlagError) {
        guard let equals = flag.firstIndex(of: "=") else {
            throw NotifyFlagError(flag, "expected FORMAT=env:NAME or FORMAT=file:/path, e.g. slack=env:SLACK_WEBHOOK_URL")
        }
        let name = String(flag[..<equals])
        let location = String(flag[flag.index(after: equals)...])
        guard let format = Format(rawValue: name) else {
            throw NotifyFlagError(flag, "the format must be \(Format.allCases.map(\.rawValue).joined(separator: " or ")), found `\(Quote.excerpt(name))`")
        }
        if location.hasPrefix("env:") {
            let variable = String(location.dropFirst(4))
            guard SecretLocation.isVariableName(variable) else {
                throw NotifyFlagError(flag, "`\(Quote.excerpt(variable))` is not an environment variable's name")
            }
            self.init(format: format, url: .environment(variable))
        } else if location.hasPrefix("file:") {
            let path = String(location.dropFirst(5))
            guard SecretLocation.isFilePath(path) else {
                throw NotifyFlagError(flag, "the file must be an absolute path without `..`")
            }
            self.init(format: format, url: .file(path))
        } else {
            throw NotifyFlagError(flag, "the URL is read from env:NAME or file:/path, never given on the command line "
                + "(every user of the machine can read it with ps)")
        }
    }
}

/// A `watch --notify` value that cannot be read. Its description never repeats a URL given by mistake.
public struct NotifyFlagError: Error, CustomStringConvertible {
    public var description: String

    init(_ flag: String, _ reason: String) {
        let shown = flag.contains("://") ? "(a URL, not shown)" : "`\(Quote.excerpt(flag))`"
        description = "--notify \(shown): \(reason)"
    }
}

/// What a notification is about.
public enum NotificationKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A rollout changes hosts: the first host step starts.
    case started
    /// Every host serves the desired state.
    case converged
    /// The rollout ended with hosts that failed or were unreachable, within what the policy tolerates.
    case degraded
    /// More hosts failed than the policy tolerates; the rollout stopped.
    case halted
    /// The rollout halted and the controller committed a `git revert` of the release.
    case reverted
    /// The desired commit was refused (its history does not descend from the last applied commit).
    case refused
    /// The desired commit waits for a deploy window (or a freeze).
    case waiting
    /// The drift check found hosts that no longer match the applied commit.
    case drift
    /// A newer commit stopped the rollout at a safe point (a revert pushed during a paced release); it reconciles next.
    case superseded
    /// A bake's analysis has no data for a metric (`noData: hold`): the rollout waits, never promoting, until there
    /// is data or a newer commit.
    case held
}
