using Lasthope.Core.Events;
using Lasthope.Simulation.Internal;

namespace Lasthope.Simulation;

/// <summary>A simulated user.</summary>
/// <param name="Id">The user id sent to the server, <c>user-{index}</c>.</param>
/// <param name="Index">0-based index among <see cref="TrafficGenerator.Users"/>.</param>
/// <param name="Age">The age the client sends; null for some users with unknown demographics.</param>
/// <param name="Gender">The gender code the client sends; null for some users with unknown demographics.</param>
/// <param name="Segment">
/// The segment the server resolves from <paramref name="Age"/> and <paramref name="Gender"/>
/// (<see cref="Core.Segments.SegmentScheme.Unknown"/> when either is missing).
/// </param>
/// <param name="TrueSegment">The grid segment of the user's real age and gender, which drives their clicks; hidden from the server.</param>
/// <param name="Activity">Relative request rate of the user (log-normal, mean about 1): some users are far more active.</param>
public sealed record SimulatedUser(
    string Id, int Index, int? Age, string? Gender, string Segment, string TrueSegment, double Activity)
{
    internal int TrueSegmentIndex { get; init; }
}

/// <summary>The static description of a catalogue item, with its hidden quality.</summary>
/// <param name="Id">The item id, <c>item-{index}</c>.</param>
/// <param name="Index">0-based index in publication order (initial items first).</param>
/// <param name="Category">Category, 0 to <see cref="SimulationOptions.CategoryCount"/> - 1.</param>
/// <param name="Price">Price (log-normal around a per-category level).</param>
/// <param name="QualitySignal">A noisy star-rating-like view of quality, 1 to 5.</param>
/// <param name="Published">When the item entered the catalogue.</param>
/// <param name="Retired">When it leaves the catalogue (the start of a day), or null for never.</param>
/// <param name="Quality">The hidden quality, in logits; what <paramref name="QualitySignal"/> is a noisy view of.</param>
public sealed record SimulatedItem(
    string Id, int Index, int Category, double Price, double QualitySignal, DateTimeOffset Published, DateTimeOffset? Retired,
    double Quality);

/// <summary>
/// A candidate of a rank request with the features a client can send for it, as of the request's time. The feature
/// names are <see cref="TrafficGenerator.FeatureNames"/>, in the order <see cref="CopyFeaturesTo"/> writes them.
/// </summary>
/// <param name="ItemId">The item id.</param>
/// <param name="Category">The item's category as a number.</param>
/// <param name="Price">The item's price.</param>
/// <param name="QualitySignal">The noisy quality rating, 1 to 5.</param>
/// <param name="AgeDays">Days since the item was published, at the request's time (two decimals).</param>
public readonly record struct SimulatedCandidate(string ItemId, int Category, double Price, double QualitySignal, double AgeDays)
{
    /// <summary>Writes category, price, quality_signal and age_days to the first four elements of <paramref name="destination"/>.</summary>
    public void CopyFeaturesTo(Span<double> destination)
    {
        if (destination.Length < TrafficGenerator.FeatureCount)
        {
            throw new ArgumentException($"Needs room for {TrafficGenerator.FeatureCount} features.", nameof(destination));
        }

        destination[0] = Category;
        destination[1] = Price;
        destination[2] = QualitySignal;
        destination[3] = AgeDays;
    }
}

/// <summary>
/// One rank request of the simulated stream: who asks, when, and which candidates the server is to rank. Made by
/// <see cref="TrafficGenerator.Request"/> or <see cref="TrafficGenerator.Requests"/>; a pure function of the seed and
/// <see cref="Index"/>. Candidates are materialised on access from the catalogue, so a request holds one int per candidate.
/// </summary>
public sealed class SimulatedRequest
{
    private readonly int[] _candidates;
    private readonly ItemSnapshot _items;

    internal SimulatedRequest(long index, int day, int ordinal, string requestId, DateTimeOffset time, SimulatedUser user,
        int[] candidates, ItemSnapshot items, double dayTime)
    {
        Index = index;
        Day = day;
        Ordinal = ordinal;
        RequestId = requestId;
        Time = time;
        User = user;
        _candidates = candidates;
        _items = items;
        DayTime = dayTime;
        Candidates = new CandidateView(this);
        CandidateIds = new CandidateIdView(this);
    }

    /// <summary>Position in the stream: <see cref="Day"/> x <see cref="SimulationOptions.RequestsPerDay"/> + <see cref="Ordinal"/>.</summary>
    public long Index { get; }

    /// <summary>The simulated day (0 is the day starting at <see cref="SimulationOptions.StartTime"/>).</summary>
    public int Day { get; }

    /// <summary>0-based order of the request within its day (requests of a day are in time order).</summary>
    public int Ordinal { get; }

    /// <summary>A unique id, <c>s{seed}-d{day}-{ordinal}</c>.</summary>
    public string RequestId { get; }

    /// <summary>Event time of the request.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The user asking.</summary>
    public SimulatedUser User { get; }

    /// <summary>The segment the server sees (from the user's sent age and gender).</summary>
    public string Segment => User.Segment;

    /// <summary>The candidates, in a uniformly random order, with their features as of <see cref="Time"/>.</summary>
    public IReadOnlyList<SimulatedCandidate> Candidates { get; }

    /// <summary>The candidates' item ids, in the order of <see cref="Candidates"/>.</summary>
    public IReadOnlyList<string> CandidateIds { get; }

    /// <summary>
    /// Writes the candidates' features row-major: <see cref="TrafficGenerator.FeatureCount"/> values per candidate, in the
    /// order of <see cref="Candidates"/> and <see cref="TrafficGenerator.FeatureNames"/> (the layout of
    /// <see cref="FeatureLog.Values"/>).
    /// </summary>
    public void CopyFeaturesTo(Span<double> destination)
    {
        var width = TrafficGenerator.FeatureCount;
        if (destination.Length < _candidates.Length * width)
        {
            throw new ArgumentException($"Needs room for {_candidates.Length} x {width} features.", nameof(destination));
        }

        var at = 0;
        for (var i = 0; i < _candidates.Length; i++)
        {
            ref readonly var item = ref _items.Params[_candidates[i]];
            destination[at] = item.Category;
            destination[at + 1] = item.Price;
            destination[at + 2] = item.QualitySignal;
            destination[at + 3] = AgeDays(item);
            at += width;
        }
    }

    internal ReadOnlySpan<int> CandidateIndices => _candidates;

    /// <summary>Time of the request in days since the start (fractional).</summary>
    internal double DayTime { get; }

    private SimulatedCandidate CandidateAt(int i)
    {
        var index = _candidates[i];
        ref readonly var item = ref _items.Params[index];
        return new SimulatedCandidate(_items.Ids[index], item.Category, item.Price, item.QualitySignal, AgeDays(item));
    }

    private double AgeDays(in ItemParams item) => Math.Round(Math.Max(0.0, DayTime - item.Birth), 2);

    private sealed class CandidateView(SimulatedRequest request) : IReadOnlyList<SimulatedCandidate>
    {
        public SimulatedCandidate this[int index] => request.CandidateAt(index);

        public int Count => request._candidates.Length;

        public IEnumerator<SimulatedCandidate> GetEnumerator()
        {
            for (var i = 0; i < request._candidates.Length; i++)
            {
                yield return request.CandidateAt(i);
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class CandidateIdView(SimulatedRequest request) : IReadOnlyList<string>
    {
        public string this[int index] => request._items.Ids[request._candidates[index]];

        public int Count => request._candidates.Length;

        public IEnumerator<string> GetEnumerator()
        {
            for (var i = 0; i < request._candidates.Length; i++)
            {
                yield return this[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

/// <summary>A simulated click on a served item.</summary>
/// <param name="EventId">A unique id, <c>{requestId}-p{position}</c>: the same simulation yields the same ids, so re-sending counts once.</param>
/// <param name="RequestId">The request whose served list was clicked.</param>
/// <param name="UserId">The user who clicked.</param>
/// <param name="ItemId">The clicked item.</param>
/// <param name="Position">1-based position of the item in the served list.</param>
/// <param name="Time">Event time: a few seconds after the request, later for lower positions.</param>
public sealed record SimulatedClick(string EventId, string RequestId, string UserId, string ItemId, int Position, DateTimeOffset Time)
{
    /// <summary>
    /// The click as the server would record it after attribution (type click, weight 1), for in-process use that bypasses
    /// HTTP. <paramref name="segment"/> is the segment it counts for, normally <see cref="SimulatedRequest.Segment"/>.
    /// </summary>
    public InteractionEvent ToInteractionEvent(string segment) => new()
    {
        EventId = EventId,
        Type = "click",
        Weight = 1.0,
        ItemId = ItemId,
        UserId = UserId,
        RequestId = RequestId,
        Time = Time,
        Segment = segment,
        Position = Position,
    };
}
