import ArgumentParser

/// Whether and where the commands that commit to the config repository push what they committed.
struct PushOptions: ParsableArguments {
    @Flag(name: .long, help: "Push the branch after committing.")
    var push = false

    @Option(name: .long, help: ArgumentHelp("The remote to push to.", valueName: "name"))
    var remote: String = "origin"
}
