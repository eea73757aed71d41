/// The order in which an evaluation sends its requests, arranged for the server's prompt cache.
///
/// Work items fall into groups whose prompts share a prefix (the cases of one run: the same
/// instruction and few-shot block). Requests go out through lanes, one per server slot; a lane
/// keeps to one group until that group has nothing left, so its slot's KV cache always holds the
/// prefix its next prompt starts with. A lane that runs dry joins the group the fewest lanes
/// serve (the earliest waiting first), so with as many groups as lanes every run advances case
/// by case side by side, and with one group all lanes share it.
struct LaneSchedule {
    /// Per group, its items in their original order, and how far each has been handed out.
    private var queues: [[Int]]
    private var heads: [Int]
    private var lanesOn: [Int]
    /// The group each lane serves now.
    private var laneGroup: [Int?]

    /// - Parameters:
    ///   - groups: the group of each item (0 ..< number of groups), in the items' order.
    ///   - lanes: how many lanes take items.
    init(groups: [Int], lanes: Int) {
        let count = (groups.max() ?? -1) + 1
        queues = Array(repeating: [], count: count)
        for (item, group) in groups.enumerated() { queues[group].append(item) }
        heads = Array(repeating: 0, count: count)
        lanesOn = Array(repeating: 0, count: count)
        laneGroup = Array(repeating: nil, count: max(1, lanes))
    }

    var lanes: Int { laneGroup.count }

    /// Whether no item is left to hand out.
    var isEmpty: Bool { queues.indices.allSatisfy { heads[$0] >= queues[$0].count } }

    /// The next item for `lane`, or nil when every item has been handed out.
    mutating func next(lane: Int) -> Int? {
        if let group = laneGroup[lane] {
            if heads[group] < queues[group].count { return take(group) }
            lanesOn[group] -= 1
            laneGroup[lane] = nil
        }
        var best: Int?
        for group in queues.indices where heads[group] < queues[group].count {
            guard let chosen = best else {
                best = group
                continue
            }
            if (lanesOn[group], queues[group][heads[group]]) < (lanesOn[chosen], queues[chosen][heads[chosen]]) {
                best = group
            }
        }
        guard let best else { return nil }
        laneGroup[lane] = best
        lanesOn[best] += 1
        return take(best)
    }

    private mutating func take(_ group: Int) -> Int {
        defer { heads[group] += 1 }
        return queues[group][heads[group]]
    }
}
