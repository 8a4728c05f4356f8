extension ConfigTemplate {
    /// The config repository's README: what is in it, how a release and a rollback go, and how hosts are prepared.
    var readme: String {
        """
        # \(app): what the fleet runs

        This repository says what Pinwheel deploys: for each environment in `Environments/`, the
        exact package versions pinned in each of two slots (A and B), which slot is active, the programs and the hosts.
        Pinwheel's controller (`pinwheel watch`) makes the hosts match the branch it watches, and commits what it
        observed to the `pinwheel/status` branch. Nobody changes a host by hand: every change is a commit here.

        ```
        Environments/\(environment)/
          environment.yaml   the environment: app, interpreter, index, active slot, programs, hosts
          A.txt, B.txt       each slot's exact pins (`uv pip compile --generate-hashes`)
          known_hosts        the hosts' SSH keys, checked on every connection
        Policies/\(environment).yaml  how a change rolls out: canary, batches, pauses, what a failure does
        nginx/               what each host's nginx needs (see "Preparing a host")
        ```

        ## A release

        1. On a branch, pin the new version in the **idle** slot and make it active — one command does both:
           `pinwheel release \(environment) \(app)==1.2.0 --branch release-\(app)-1.2.0 --push`
           (or edit the idle slot's file, e.g. with `uv pip compile --generate-hashes`, and flip `active:` yourself).
        2. Open a pull request. CI runs `pinwheel validate --format github` (every error at its line) and
           `pinwheel diff \(environment) --from origin/main` shows the reviewer what changes:
           `slot B: \(app) 1.1.0 → 1.2.0`, `active: A → B`.
        3. Merge it. The controller builds the new slot on every host (traffic does not move), switches a canary host,
           then the rest in batches as `Policies/\(environment).yaml` says, and records the result on `pinwheel/status`
           (`pinwheel status \(environment)`). A release whose health check fails is halted before traffic moves to it.

        ## A rollback

        The previous version is still running in the other slot, so a rollback is one nginx switch per host:

        ```sh
        git revert <the release commit>      # or: pinwheel rollback \(environment) --push
        git push                             # through a pull request if your branch is protected
        ```

        The controller switches every host back to the warm slot at once, then rebuilds the idle slot. `pinwheel history
        \(environment)` lists every change with its author and what the controller recorded for it.

        ## Preparing a host

        Each host needs SSH with the key in `defaults.identity`, Python 3 with venv (`python3-venv`), supervisord and
        nginx (Debian: `sudo apt-get install python3 python3-venv supervisor nginx`; uv makes installs faster), and:

        1. Its SSH key in `Environments/\(environment)/known_hosts` — that file says how to fetch it and check it.
        2. The folders Pinwheel writes, owned by the SSH user: `sudo install -d -o deploy /srv/pinwheel /etc/nginx/pinwheel`,
           and write access to `/etc/supervisor/conf.d` (or set `supervisor.include` to a folder it owns that
           supervisord's `[include] files` names).
        3. nginx: copy `nginx/pinwheel-\(app).conf` to `/etc/nginx/conf.d/` (it includes the upstream file Pinwheel owns in
           the http block), `nginx/\(app)-upstream-placeholder.conf` to `\(upstreamPath)` (once, so `nginx -t` passes
           before the first deploy), and put the lines of `nginx/\(app)-location.conf` in your server block. Then
           `sudo nginx -t && sudo nginx -s reload`.
        4. Reloading nginx and talking to supervisord as the SSH user: run them as that user, or set `nginx.reload`,
           `nginx.test` and `supervisor.ctl` to `sudo -n ...` commands it may run without a password. Observing (`plan`)
           never runs them: it reads supervisord's socket, so give the SSH user access to it (`chown=root:deploy`
           and `chmod=0770` in supervisord's `[unix_http_server]`).

        Then `pinwheel doctor \(environment)` checks every host at once and prints, for each, what is missing and the command
        that fixes it; it exits 0 when every host is ready. `pinwheel plan \(environment)` shows what the first deploy will do.

        """
    }
}
