/// A few random edits of a text (a character replaced by one of `alphabet`, or removed), for the parsers'
/// never-crash tests. Seeded, so a failure can be replayed with the same seed.
struct TextMutation {
    var random: RobustnessTests.SplitMix
    let alphabet: [Character]
    /// How many edits each mutation makes.
    let edits: ClosedRange<Int>

    init(seed: UInt64, alphabet: [Character], edits: ClosedRange<Int>) {
        random = RobustnessTests.SplitMix(state: seed)
        self.alphabet = alphabet
        self.edits = edits
    }

    /// `text` with a few edits.
    mutating func mutate(_ text: [Character]) -> String {
        var text = text
        for _ in 0..<Int.random(in: edits, using: &random) where !text.isEmpty {
            let index = Int.random(in: 0..<text.count, using: &random)
            if Bool.random(using: &random) {
                text[index] = alphabet.randomElement(using: &random)!
            } else {
                text.remove(at: index)
            }
        }
        return String(text)
    }
}
