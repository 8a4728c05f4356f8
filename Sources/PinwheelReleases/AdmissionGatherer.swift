import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelGit

/// Gathers the facts ``Admission`` decides from, out of a config repository: whether a commit descends from the last
/// applied one (or a signed marker accepts the rewrite), the signatures of the commits in between, and the statuses
/// of the environment a promotion comes from. `watch` and `apply` both gather through it, so they judge a commit
/// alike; each only supplies what it knows already (the last applied commit, the quarantine list, the clock).
///
/// Only what a rule will look at is gathered (no signature is checked when no policy requires them), and a failure is
/// a fact too (``AdmissionFacts/Signatures/unreadable(_:)``): admission decides what it means.
///
/// An actor: it keeps the signature verifier's cache and the promotion source's statuses as of a status branch tip,
/// so a controller polling every few seconds reads them again only when they change.
public actor AdmissionGatherer {
    public let verifier: SignatureVerifier
    public let allowHistoryRewrite: Bool
    /// How many of a promotion source's newest statuses are read.
    let promotionHistoryLimit = 200
    private var promotionSources: [String: (tip: ObjectID, observed: [PromotionGate.Observed])] = [:]
    /// The environments that require signatures, with their hosts' addresses, by the commit and status tip they were
    /// read at.
    private var signingEnvironments: (commit: ObjectID, statusTip: ObjectID?, hosts: [String: Set<String>])?
    /// Whether the operator requires signatures everywhere (`--require-signatures`).
    public var requireSignatures: Bool { verifier.trusted.requireSignatures }

    /// Checks that a promotion source's statuses were signed by the controller (`--status-signing-key`); nil: every
    /// status counts.
    public let statusVerifier: StatusVerifier?

    public init(trusted: TrustedKeys, allowHistoryRewrite: Bool, verifier: SignatureVerifier? = nil,
                statusVerifier: StatusVerifier? = nil) {
        self.verifier = verifier ?? SignatureVerifier(trusted: trusted)
        self.allowHistoryRewrite = allowHistoryRewrite
        self.statusVerifier = statusVerifier
    }

    /// The facts about applying `desired` from `commit` (nil: files outside git; `uncommitted`: work tree changes on
    /// top of it). `statusTip` reads the status branch's tip the promotion's source statuses are read at.
    public func facts(for desired: Environment, commit: ObjectID?, uncommitted: [String] = [],
                      lastApplied: AdmissionFacts.LastApplied?, quarantined: [String], in repository: Repository?,
                      statusTip: @Sendable () throws -> ObjectID?, now: Date) async -> AdmissionFacts {
        var facts = AdmissionFacts(desired: desired, commit: commit?.hex, uncommitted: uncommitted, lastApplied: lastApplied,
                                   quarantined: quarantined, now: now, allowHistoryRewrite: allowHistoryRewrite,
                                   trustsKeys: !verifier.trusted.isEmpty, operatorRequiresSignatures: requireSignatures)
        guard let repository else {
            if Admission.readsPromotion(desired, lastApplied: lastApplied) {
                facts.promotion = .unreadable("the config is not in a git repository, so there is no status branch to read")
            }
            return facts
        }
        let base = lastApplied.flatMap { ObjectID(hex: $0.commit) }
        if let commit, Admission.checksAncestry(commit: commit.hex, lastApplied: lastApplied, allowHistoryRewrite: allowHistoryRewrite) {
            facts.ancestry = await ancestry(of: commit, base: base, lastApplied: lastApplied?.commit ?? "", in: repository)
        }
        if let commit, !Admission.requiresSignatures(facts) {
            facts.signingNeighbours = await signingNeighbours(of: desired, at: commit, in: repository, statusTip: statusTip)
        }
        if let commit, facts.trustsKeys, facts.uncommitted.isEmpty, Admission.requiresSignatures(facts) {
            do {
                facts.signatures = .checked(try await verifier.verdict(tip: commit, applied: base, in: repository))
            } catch {
                facts.signatures = .unreadable("\(error)")
            }
        }
        if let promotion = desired.policy.promotion, Admission.readsPromotion(desired, lastApplied: lastApplied) {
            facts.promotion = await promotionSource(promotion.from, in: repository, statusTip: statusTip)
        }
        return facts
    }

    /// Whether `commit` descends from `base`, or a signed marker accepts that it does not.
    private func ancestry(of commit: ObjectID, base: ObjectID?, lastApplied: String,
                          in repository: Repository) async -> AdmissionFacts.Ancestry {
        guard let base else { return .diverged(error: "\(lastApplied) is not a commit id") }
        var error: String?
        do {
            if try repository.isDescendant(commit, of: base) { return .descends }
        } catch let failure {
            error = failure.message
        }
        if let marker = try? await verifier.rewriteMarker(tip: commit, base: base, in: repository) {
            return .acceptedByMarker(commit: marker.id.hex, author: "\(marker.author.name) <\(marker.author.email)>")
        }
        return .diverged(error: error)
    }

    /// The other environments that require signatures and name one of `desired`'s hosts (by address): those at
    /// `commit` whose config loads, and every environment with a status, as its last applied commit had it (so a
    /// commit cannot shed the rule by also breaking, removing or weakening the guarded environment). A host is
    /// matched by address alone, whatever the port or user: the strictest reading. With a status verifier, each last
    /// applied commit is the one the controller signed for (a forged status cannot shed the rule).
    private func signingNeighbours(of desired: Environment, at commit: ObjectID, in repository: Repository,
                                   statusTip: @Sendable () throws -> ObjectID?) async -> [AdmissionFacts.SigningNeighbour] {
        let tip = try? statusTip()
        let signing: [String: Set<String>]
        if let cached = signingEnvironments, cached.commit == commit, cached.statusTip == tip {
            signing = cached.hosts
        } else {
            signing = await Self.signingEnvironments(at: commit, statusTip: tip, in: repository, verifier: statusVerifier)
            signingEnvironments = (commit, tip, signing)
        }
        let addresses = Set(desired.hosts.map { $0.address.lowercased() })
        return signing.keys.sorted().filter { $0 != desired.name }.compactMap { name in
            signing[name]?.intersection(addresses).sorted().first.map { AdmissionFacts.SigningNeighbour(environment: name, address: $0) }
        }
    }

    /// Each environment that requires signatures (at `commit` or as last applied), with its hosts' addresses.
    static func signingEnvironments(at commit: ObjectID, statusTip: ObjectID?, in repository: Repository,
                                    verifier: StatusVerifier? = nil) async -> [String: Set<String>] {
        var signing: [String: Set<String>] = [:]
        func add(_ environment: Environment) {
            guard environment.policy.verify.requiresSignatures else { return }
            signing[environment.name, default: []].formUnion(environment.hosts.map { $0.address.lowercased() })
        }
        if let report = try? ConfigLoader(source: CommitConfigSource(repository: repository, commit: commit)).load() {
            report.environments.values.forEach(add)
        }
        if let statusTip, let folders = try? repository.listDirectory(ConfigLoader.environmentsFolder, at: statusTip) {
            for folder in folders where folder.kind == .directory {
                let status: EnvironmentStatus?
                if let verifier {
                    status = try? await StatusBranch.trustedStatus(of: folder.name, at: statusTip, in: repository, verifier: verifier).status
                } else {
                    status = try? StatusBranch.status(of: folder.name, at: statusTip, in: repository)
                }
                guard let environment = lastApplied(folder.name, status: status, in: repository)?.environment else { continue }
                add(environment)
            }
        }
        return signing
    }

    /// The statuses of `source` as of the status branch's tip, read again only when the tip moved; with a status
    /// verifier, only those the controller signed (a forged status cannot fake a soak).
    private func promotionSource(_ source: String, in repository: Repository,
                                 statusTip: @Sendable () throws -> ObjectID?) async -> AdmissionFacts.PromotionSource {
        do {
            guard let tip = try statusTip() else { return .observed([]) }
            if let cached = promotionSources[source], cached.tip == tip { return .observed(cached.observed) }
            var statuses: [EnvironmentStatus] = []
            for (commit, status) in try StatusBranch.records(of: source, at: tip, in: repository, limit: promotionHistoryLimit) {
                if let statusVerifier, !(await statusVerifier.state(of: commit, in: repository).isVerified) { continue }
                statuses.append(status)
            }
            let observed = statuses.compactMap(PromotionGate.Observed.init)
            promotionSources[source] = (tip, observed)
            return .observed(observed)
        } catch {
            return .unreadable("\(error)")
        }
    }

    /// The commit `status` says was last applied to `environment`, with the environment as that commit has it (nil
    /// when it cannot be loaded there: the commit is gone, or its config no longer reads).
    public static func lastApplied(_ environment: String, status: EnvironmentStatus?,
                                   in repository: Repository) -> AdmissionFacts.LastApplied? {
        guard let hex = status?.lastApplied, let commit = ObjectID(hex: hex) else { return nil }
        guard let report = try? ConfigLoader(source: CommitConfigSource(repository: repository, commit: commit)).load([environment]),
              !report.hasErrors, let loaded = report.environments[environment] else {
            return AdmissionFacts.LastApplied(commit: commit.hex, environment: nil)
        }
        return AdmissionFacts.LastApplied(commit: commit.hex, environment: loaded)
    }
}
