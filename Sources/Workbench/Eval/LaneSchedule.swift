/// The order in which an evaluation sends its requests, arranged for the server's prompt cache.
///
/// Work items fall into groups whose prompts share a prefix (the cases of one run: the same
/// instruction and few-shot block). Requests go out through lanes, one per server slot; a lane
/// keeps to one group until that group has nothing left, so its slot's KV cache always holds the
/// prefix its next prompt starts with. A lane that runs dry joins the group the fewest lanes
/// serve (the earliest waiting first), so with as many groups as lanes every run advances case
/// by case side by side, and with one group all lanes share it.
///
/// Within a group, items may be chained: a chain's items go out one after another through the
/// lane that took its first, so a prompt that begins with the one before it (a case with one
/// similar example, then with two: the first is the same) finds that one in its slot's cache.
struct LaneSchedule {
    /// Per group, its chains in the order of their first items, each chain's items in their order.
    private var chains: [[[Int]]]
    /// Per group, the next chain to hand out.
    private var heads: [Int]
    private var lanesOn: [Int]
    /// The group each lane serves now, and the chain it is in with how far it has come.
    private var laneGroup: [Int?]
    private var laneChain: [(items: [Int], next: Int)?]

    /// - Parameters:
    ///   - groups: the group of each item (0 ..< number of groups), in the items' order.
    ///   - chains: the chain of each item within its group (any numbering); nil puts every item
    ///     in a chain of its own.
    ///   - ranks: the order of items within a chain, lowest first (ties in the items' order).
    ///   - lanes: how many lanes take items.
    init(groups: [Int], chains chainOf: [Int]? = nil, ranks: [Int]? = nil, lanes: Int) {
        let count = (groups.max() ?? -1) + 1
        chains = Array(repeating: [], count: count)
        var position: [[Int]: Int] = [:]
        for (item, group) in groups.enumerated() {
            guard let chain = chainOf?[item] else {
                chains[group].append([item])
                continue
            }
            if let index = position[[group, chain]] {
                chains[group][index].append(item)
            } else {
                position[[group, chain]] = chains[group].count
                chains[group].append([item])
            }
        }
        if let ranks {
            for group in chains.indices {
                for index in chains[group].indices where chains[group][index].count > 1 {
                    chains[group][index] = chains[group][index].enumerated().sorted {
                        (ranks[$0.element], $0.offset) < (ranks[$1.element], $1.offset)
                    }.map(\.element)
                }
            }
        }
        heads = Array(repeating: 0, count: count)
        lanesOn = Array(repeating: 0, count: count)
        laneGroup = Array(repeating: nil, count: max(1, lanes))
        laneChain = Array(repeating: nil, count: max(1, lanes))
    }

    var lanes: Int { laneGroup.count }

    /// Whether no item is left to hand out.
    var isEmpty: Bool {
        chains.indices.allSatisfy { heads[$0] >= chains[$0].count }
            && laneChain.allSatisfy { ($0?.next ?? 0) >= ($0?.items.count ?? 0) }
    }

    /// The next item for `lane`, or nil when every item has been handed out.
    mutating func next(lane: Int) -> Int? {
        if let chain = laneChain[lane], chain.next < chain.items.count {
            laneChain[lane]!.next += 1
            return chain.items[chain.next]
        }
        laneChain[lane] = nil
        if let group = laneGroup[lane] {
            if heads[group] < chains[group].count { return start(group, lane: lane) }
            lanesOn[group] -= 1
            laneGroup[lane] = nil
        }
        var best: Int?
        for group in chains.indices where heads[group] < chains[group].count {
            guard let chosen = best else {
                best = group
                continue
            }
            if (lanesOn[group], chains[group][heads[group]][0]) < (lanesOn[chosen], chains[chosen][heads[chosen]][0]) {
                best = group
            }
        }
        guard let best else { return nil }
        laneGroup[lane] = best
        lanesOn[best] += 1
        return start(best, lane: lane)
    }

    /// Hands `lane` the group's next chain and returns its first item.
    private mutating func start(_ group: Int, lane: Int) -> Int {
        let chain = chains[group][heads[group]]
        heads[group] += 1
        laneChain[lane] = (chain, 1)
        return chain[0]
    }
}
