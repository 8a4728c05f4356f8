import Foundation
import PinwheelCore

/// A small valid config repository that the tests break one mistake at a time.
enum Fixture {
    static let environmentPath = "Environments/prod/environment.yaml"
    static let policyPath = "Policies/prod.yaml"
    static let slotAPath = "Environments/prod/A.txt"
    static let slotBPath = "Environments/prod/B.txt"

    static let environment = """
        app: hello
        python: /usr/bin/python3
        source:
          index: http://127.0.0.1:8300/simple/
        active: A
        slots:
          A: A.txt
          B: B.txt
        programs:
          web:
            command: hello-service --port {port}
            processes: 2
            port: {A: 8100, B: 8200}
            health: {path: /healthz, status: 200, timeout: 2s}
          worker:
            command: hello-worker
        policy: prod
        defaults:
          user: deploy
          port: 22
          identity: ~/.ssh/id_ed25519
          knownHosts: known_hosts
          root: /srv/pinwheel
          supervisor: {include: /etc/supervisor/conf.d, ctl: supervisorctl}
          nginx: {upstream: /etc/nginx/pinwheel/hello.conf, test: nginx -t, reload: nginx -s reload, check: http://127.0.0.1/healthz}
        hosts:
          - name: web-01
            address: 10.0.0.11
          - name: web-02
            address: 10.0.0.12
            port: 2222

        """

    static let policy = """
        rollout:
          prepare: 20
          canary: 1
          batch: 25%
          pause: 10s
          maxFailures: 0
          onFailure: rollback
        health: {retries: 10, interval: 1s}
        drift: heal

        """

    static let slotA = """
        # slot A
        hello-service==1.0.0
        click==8.1.7

        """

    static let slotB = """
        hello-service==1.1.0
        click==8.1.7

        """

    static var files: [String: String] {
        [
            environmentPath: environment,
            policyPath: policy,
            slotAPath: slotA,
            slotBPath: slotB,
            "Environments/prod/known_hosts": "10.0.0.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\n",
        ]
    }

    static func load(_ files: [String: String] = files) throws -> ConfigReport {
        try ConfigLoader(source: InMemorySource(files)).load()
    }
}
