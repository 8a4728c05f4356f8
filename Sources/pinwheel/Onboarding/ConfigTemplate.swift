/// The files `pinwheel init` writes: a config repository that validates as it is, with a comment on every line a
/// person has to change, and the nginx pieces and instructions that prepare the hosts.
///
/// Pure: it only makes text, so `Init` can validate the result through the same loader as `validate` before anything
/// is written.
struct ConfigTemplate {
    struct Host {
        var name: String
        var address: String
    }

    var app: String
    var environment: String
    var hosts: [Host]
    /// The lines of both slot files; the placeholder pin when none are given.
    var pins: [String]

    /// `hello-web`'s upstream, as the agent names it: `<app>-<program>`.
    var upstreamName: String { "\(app)-web" }
    /// The nginx variable the upstream file defines, as the agent names it.
    var slotVariable: String { "$pinwheel_\(app.replacingOccurrences(of: "-", with: "_"))_slot" }
    var upstreamPath: String { "/etc/nginx/pinwheel/\(app).conf" }
    var folder: String { "Environments/\(environment)" }

    /// Repository-relative path and content, in the order they are listed to the user.
    var files: [(path: String, text: String)] {
        [("README.md", readme),
         ("\(folder)/environment.yaml", environmentYAML),
         ("\(folder)/A.txt", slotFile("A")),
         ("\(folder)/B.txt", slotFile("B")),
         ("\(folder)/known_hosts", knownHosts),
         ("Policies/\(environment).yaml", policy),
         ("nginx/pinwheel-\(app).conf", httpInclude),
         ("nginx/\(app)-upstream-placeholder.conf", placeholderUpstream),
         ("nginx/\(app)-location.conf", location)]
    }

    var environmentYAML: String {
        let module = app.replacingOccurrences(of: "-", with: "_")
        let hostLines = hosts.map { "  - name: \($0.name)\n    address: \($0.address)" }.joined(separator: "\n")
        return """
            # Environment \(environment) of \(app), written by `pinwheel init`. README.md says how a release and a rollback
            # go; Pinwheel's own README documents every key. Check a change with `pinwheel validate`.
            app: \(app)                        # names the supervisord programs, the nginx upstream and the host folders
            python: /usr/bin/python3          # the interpreter on the hosts that each slot's virtualenv is made from
            source:
              index: https://pypi.org/simple/ # a PEP 503 index, without credentials (give hosts pip's or uv's own config)
              # wheelhouse: /srv/wheels       # ... or a folder of wheels on each host, for hosts without network access
            active: A                         # the slot nginx sends traffic to; a release pins the idle slot and flips this
            slots:
              A: A.txt                        # each slot's exact pins (see the note at the top of A.txt)
              B: B.txt                        # or {pins: B.txt, python: /usr/bin/python3.12}: a slot's own interpreter
            programs:
              web:
                # Run from the slot's virtualenv bin/; {port} is each process's own port. Change it to your service's.
                command: gunicorn --bind 127.0.0.1:{port} --workers 2 \(module).wsgi:application
                processes: 2                  # process i listens on port + i
                port: {A: 8100, B: 8200}      # both slots run side by side, so they need ports of their own
                health: {path: /healthz, status: 200, timeout: 2s}
                # environment: {DJANGO_SETTINGS_MODULE: \(module).settings}   # variables from git ({port}, {slot} allowed)
                # envFile: /etc/\(app)/secrets.env  # secrets: a file on each host, never in git
                # user: www-data              # run as a user of its own rather than the SSH user
                # stopTimeout: 30s            # a stop lets requests in flight finish (gunicorn's graceful timeout)
              # worker:
              #   command: celery --app \(module) worker   # a program without a port: not behind nginx, must reach RUNNING
            # hooks:                          # run from the new slot's venv bin/, with the program's environment
            #   beforeSwitch: {command: django-admin migrate --noinput, timeout: 10m}   # once per release, before traffic moves
            policy: \(environment)                 # Policies/\(environment).yaml
            defaults:                         # how to reach the hosts and where things live; each may be set per host
              user: deploy                    # the SSH login on the hosts
              port: 22
              identity: ~/.ssh/id_ed25519     # this machine's key for the hosts (ed25519), in ~/.ssh or an --allow-identity-dir folder
              knownHosts: known_hosts         # beside this file: the hosts' keys, checked on every connection (see the file)
              root: /srv/pinwheel             # where the slots live on each host
              supervisor: {include: /etc/supervisor/conf.d, ctl: supervisorctl}
              # The upstream file Pinwheel owns (nginx/ in this repository says how to include it). Add
              # `check: http://127.0.0.1/healthz` (a URL through nginx) once the server block adds X-Pinwheel-Slot.
              nginx: {upstream: \(upstreamPath), test: nginx -t, reload: nginx -s reload}
            hosts:                            # `pinwheel doctor \(environment)` checks that each has what Pinwheel needs
            \(hostLines)

            """
    }

    func slotFile(_ slot: String) -> String {
        """
        # Slot \(slot)'s exact pins: every package the service needs, its dependencies included, each `name==version`
        # (Pinwheel installs with --no-deps, so nothing unpinned sneaks in). Write this file with
        #     uv pip compile --generate-hashes requirements.in -o \(folder)/\(slot).txt
        # (or `pip-compile --generate-hashes`); hashes are optional but then every pin needs them.
        # `pinwheel release \(environment) NAME==VERSION` later writes the idle slot's file for you.
        \(pins.joined(separator: "\n"))

        """
    }

    var knownHosts: String {
        let steps = hosts.map { host in
            """
            #   \(host.name):
            #     ssh-keyscan -t ed25519 \(host.address) > /tmp/\(host.name).key && ssh-keygen -lf /tmp/\(host.name).key
            #     on \(host.name)'s console: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub
            #     the same fingerprint? then: cat /tmp/\(host.name).key >> \(folder)/known_hosts
            """
        }.joined(separator: "\n")
        return """
            # The hosts' SSH keys, one line per host: `ADDRESS ssh-ed25519 KEY` (`[ADDRESS]:PORT ...` when the port is not 22).
            # Pinwheel checks every connection against this file only and never connects to a host it cannot verify. This
            # file starts without keys on purpose: `pinwheel init` never trusts a key on first use. For each host, fetch
            # its key, then compare its fingerprint with the one the host itself shows (on its console, or however you
            # reach it out of band) before you add it:
            \(steps)
            # `pinwheel doctor \(environment)` names every host whose key is still missing or does not match.

            """
    }

    var policy: String {
        """
        # How a change reaches the hosts of environments whose `policy:` is \(environment). Every key is optional; these
        # are the defaults, except where the comment says otherwise.
        rollout:
          prepare: 10          # hosts whose new slot is built at once (no traffic moves while they build)
          canary: 1            # hosts switched first
          batch: 25%           # then batches of this many hosts: a count, or a percentage
          pause: 0s            # between batches, e.g. 30s to watch dashboards
          maxFailures: 0       # failed hosts tolerated across the whole rollout before it halts
          onFailure: halt      # halt | rollback (switch failed hosts back) | revert (also commit a git revert)
        health: {retries: 10, interval: 1s}   # a new slot's health check: tries, and the pause between them
        drift: report          # report | heal: what the controller does when a host stops matching git
        # windows:             # deploy windows (Pinwheel's README, "Deploy windows and freezes")
        #   - deny: {days: [fri, sat, sun], from: "16:00", to: "08:00", zone: Europe/Berlin}

        """
    }

    var httpInclude: String {
        """
        # Copy this file to /etc/nginx/conf.d/pinwheel-\(app).conf on each host: Debian's nginx.conf includes conf.d/*.conf
        # in its http block, which is where the upstream file Pinwheel owns must be included. (Or put this line in the
        # http block of your nginx.conf yourself.) `pinwheel doctor` checks that nginx really includes it there.
        include \(upstreamPath);

        """
    }

    var placeholderUpstream: String {
        """
        # Copy this file to \(upstreamPath) once, before the first deploy, so `nginx -t` passes while the server block
        # already names the upstream: sudo install -D -m 644 nginx/\(app)-upstream-placeholder.conf \(upstreamPath)
        # Pinwheel's first switch replaces it. Until then nothing listens on 127.0.0.1:9, so the site answers 502.
        geo \(slotVariable) { default none; }
        upstream \(upstreamName) {
            server 127.0.0.1:9;
        }

        """
    }

    var location: String {
        """
        # Put these lines in the server block that serves \(app) (or `include` this file there), then
        # `sudo nginx -t && sudo nginx -s reload`.
        location / {
            proxy_pass http://\(upstreamName);
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # Names the slot that answered, so Pinwheel can verify a switch (with `nginx.check` in environment.yaml).
            add_header X-Pinwheel-Slot \(slotVariable) always;
        }

        """
    }
}
