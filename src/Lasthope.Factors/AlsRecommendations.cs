using System.Globalization;
using Lasthope.Core.Serving;

namespace Lasthope.Factors;

/// <summary>Which model placed a recommendation.</summary>
public enum RecommendationSource
{
    /// <summary>ALS: a user the model knows, or one folded in from their interactions.</summary>
    Als,

    /// <summary>The model's training popularity: nothing usable is known about the user.</summary>
    Popular,
}

/// <summary>One user's recommendations, as the served path chose them.</summary>
/// <param name="User">The user id.</param>
/// <param name="Source">ALS or popularity.</param>
/// <param name="FoldedIn">The user is not in the model and was folded in from the interactions given.</param>
/// <param name="UnknownItems">Interactions given on items the model does not know (they could not count).</param>
/// <param name="Items">Best first; rank k is Items[k - 1].</param>
public sealed record UserRecommendations(string User, RecommendationSource Source, bool FoldedIn, int UnknownItems, IReadOnlyList<Recommendation> Items)
{
    /// <summary>The source as the HTTP API writes it: <c>als</c> or <c>popular</c>.</summary>
    public string SourceName => AlsRecommendations.WireName(Source);
}

/// <summary>What a streamed batch (<see cref="AlsRecommendations.WriteBatch"/>) did.</summary>
/// <param name="Users">Users listed.</param>
/// <param name="Known">Users the model knows (ALS from their factors).</param>
/// <param name="FoldedIn">Users the model does not know, folded in from the interactions the list gave them.</param>
/// <param name="Unknown">Users the model knew nothing usable about (not in the model, no interaction on an item it knows): they got the popular items.</param>
/// <param name="Rows">Rows written (fewer than users x count when the catalogue, less exclusions and seen items, is shorter).</param>
/// <param name="UnknownIds">The first <see cref="MaxUnknownIds"/> of the unknown users, in list order, for the report.</param>
public sealed record BatchSummary(int Users, int Known, int FoldedIn, int Unknown, long Rows, IReadOnlyList<string> UnknownIds)
{
    /// <summary>How many unknown ids a summary keeps.</summary>
    public const int MaxUnknownIds = 10;
}

/// <summary>A user to recommend for, with interactions to fold in if the model does not know them.</summary>
/// <param name="User">The user id.</param>
/// <param name="Interactions">(item id, weight) pairs; empty for none.</param>
public sealed record RecommendationRequest(string User, IReadOnlyList<KeyValuePair<string, float>> Interactions);

/// <summary>
/// The served path of a recommendation, in process: a user the model knows gets ALS's top items without their
/// training items (unless seen items are kept); a user it does not know but with interactions on known items is folded
/// in (the exact solve of <see cref="AlsModel.FoldIn(IEnumerable{KeyValuePair{string, float}})"/>); anyone else gets
/// the most popular items of the model's training data. Exclusions apply on every path. <see cref="Batch"/> does it
/// for a list of users in parallel, for offline jobs (a nightly e-mail, a cache warm-up).
/// </summary>
public static class AlsRecommendations
{
    /// <summary>The wire name of a source, as in the HTTP API's items (<c>als</c>, <c>popular</c>).</summary>
    public static string WireName(RecommendationSource source) => source switch
    {
        RecommendationSource.Als => "als",
        RecommendationSource.Popular => "popular",
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, null),
    };

    /// <summary>The served path's name of a source (<see cref="ItemSource.Als"/>, <see cref="ItemSource.Popular"/>), as the HTTP API's items carry it.</summary>
    public static ItemSource ItemSourceOf(RecommendationSource source) => source switch
    {
        RecommendationSource.Als => ItemSource.Als,
        RecommendationSource.Popular => ItemSource.Popular,
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, null),
    };

    /// <summary>One user's recommendations: ALS for a known user, fold-in, else the popular items.</summary>
    /// <param name="model">The model.</param>
    /// <param name="popular">The fallback list (<see cref="Popularity"/> of the model), built once and shared.</param>
    /// <param name="userId">The user.</param>
    /// <param name="count">How many items (at least 1).</param>
    /// <param name="exclude">Item ids never to return (unknown ids are ignored).</param>
    /// <param name="filterSeen">Leave out the items the user already has (training items, or the interactions given).</param>
    /// <param name="interactions">The user's interactions, used when the model does not know the user.</param>
    public static UserRecommendations ForUser(AlsModel model, PopularityModel popular, string userId, int count, IEnumerable<string> exclude, bool filterSeen, IReadOnlyList<KeyValuePair<string, float>> interactions)
    {
        ArgumentNullException.ThrowIfNull(popular);
        var excluded = Indices(model, exclude);
        if (FromModel(model, userId, count, excluded, filterSeen, interactions, out var unknownItems) is { } fromModel)
        {
            return fromModel;
        }

        var buffer = new ScoredItem[count];
        var seen = filterSeen ? interactions.Select(kv => model.Items.TryGetIndex(kv.Key, out var i) ? i : -1).Where(i => i >= 0).ToArray() : [];
        var m = popular.TopN(null, buffer, excluded, seen);
        return new UserRecommendations(userId, RecommendationSource.Popular, false, unknownItems, Named(model, buffer.AsSpan(0, m)));
    }

    /// <summary>
    /// The model's part of the rule: a user it knows gets its top items; one it does not know but with interactions on
    /// items it knows is folded in; anyone else gets null, and the caller chooses the popular list (the server's
    /// is per segment and fresher than the model's own).
    /// </summary>
    /// <param name="excluded">Item indices never to return, sorted ascending.</param>
    /// <param name="unknownItems">Interactions on items the model does not know.</param>
    public static UserRecommendations? FromModel(AlsModel model, string userId, int count, int[] excluded, bool filterSeen, IReadOnlyList<KeyValuePair<string, float>> interactions, out int unknownItems)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(userId);
        ArgumentNullException.ThrowIfNull(excluded);
        ArgumentNullException.ThrowIfNull(interactions);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        unknownItems = 0;
        var buffer = new ScoredItem[count];
        if (model.Users.TryGetIndex(userId, out var user))
        {
            var n = model.Recommend(user, buffer, excluded, filterSeen);
            return new UserRecommendations(userId, RecommendationSource.Als, false, 0, Named(model, buffer.AsSpan(0, n)));
        }

        var folded = interactions.Count > 0 ? model.FoldIn(interactions) : null;
        unknownItems = folded?.UnknownItems ?? 0;
        if (folded is { IsEmpty: false })
        {
            var n = model.Recommend(folded.Factors, buffer, excluded, filterSeen ? folded.SeenItems : default);
            return new UserRecommendations(userId, RecommendationSource.Als, true, folded.UnknownItems, Named(model, buffer.AsSpan(0, n)));
        }

        return null;
    }

    /// <summary>The sorted indices of the ids the model knows.</summary>
    public static int[] Indices(AlsModel model, IEnumerable<string> ids)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ids);
        var indices = ids.Select(id => model.Items.TryGetIndex(id, out var i) ? i : -1).Where(i => i >= 0).Distinct().ToArray();
        Array.Sort(indices);
        return indices;
    }

    /// <summary>The fallback list of a model: overall popularity among its training users.</summary>
    public static PopularityModel Popularity(AlsModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return PopularityModel.FromCounts(model.Items, model.ItemUserCounts, model.Users.Count);
    }

    /// <summary>
    /// Recommendations for every listed user, in the order listed, computed on <paramref name="threads"/> threads.
    /// The result does not depend on the thread count.
    /// </summary>
    public static IReadOnlyList<UserRecommendations> Batch(AlsModel model, IReadOnlyList<RecommendationRequest> users, int count, bool filterSeen = true, int threads = 0, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(users);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var popular = Popularity(model);
        var result = new UserRecommendations[users.Count];
        var done = 0;
        const int Chunk = 256;
        Parallel.For(
            0, (users.Count + Chunk - 1) / Chunk,
            new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount, CancellationToken = cancellationToken },
            c =>
            {
                var end = Math.Min(users.Count, (c + 1) * Chunk);
                for (var u = c * Chunk; u < end; u++)
                {
                    result[u] = ForUser(model, popular, users[u].User, count, [], filterSeen, users[u].Interactions);
                }

                progress?.Report(Interlocked.Add(ref done, end - (c * Chunk)));
            });
        return result;
    }

    /// <summary>Users a streamed batch computes before it writes their rows: the memory it holds, whatever the list's length.</summary>
    public const int BatchChunk = 4_096;

    /// <summary>
    /// Recommendations for every listed user, written as <c>user,item,rank,score,source</c> CSV (<see cref="WriteCsv"/>)
    /// in the order listed, streamed: <see cref="BatchChunk"/> users at a time are computed on <paramref name="threads"/>
    /// threads and their rows written before the next chunk starts, so memory holds one chunk of lists, not the whole
    /// output. The rows do not depend on the thread count, and each user's are what <see cref="ForUser"/> serves.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="users">The users, with interactions to fold in those the model does not know.</param>
    /// <param name="count">Items per user (at least 1).</param>
    /// <param name="writer">Receives the header and the rows.</param>
    /// <param name="exclude">Item ids never to recommend to anyone.</param>
    /// <param name="filterSeen">Leave out the items each user already has.</param>
    /// <param name="threads">Worker threads (0 for one per core).</param>
    /// <param name="progress">Receives the number of users written so far.</param>
    /// <param name="cancellationToken">Stops between chunks.</param>
    /// <returns>How many users took each path, and the first ids of those the model knew nothing about.</returns>
    public static BatchSummary WriteBatch(
        AlsModel model, IReadOnlyList<RecommendationRequest> users, int count, TextWriter writer, IEnumerable<string>? exclude = null, bool filterSeen = true,
        int threads = 0, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var popular = Popularity(model);
        var excluded = exclude is null ? [] : exclude.ToArray();
        var chunk = new UserRecommendations[Math.Min(BatchChunk, Math.Max(1, users.Count))];
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount, CancellationToken = cancellationToken };
        int known = 0, folded = 0;
        long rows = 0;
        var unknown = new List<string>();
        var unknownCount = 0;
        writer.WriteLine(CsvHeader);
        for (var start = 0; start < users.Count; start += chunk.Length)
        {
            var n = Math.Min(chunk.Length, users.Count - start);
            Parallel.For(0, n, options, i => chunk[i] = ForUser(model, popular, users[start + i].User, count, excluded, filterSeen, users[start + i].Interactions));
            for (var i = 0; i < n; i++)
            {
                var r = chunk[i];
                WriteRows(writer, r);
                rows += r.Items.Count;
                if (r.FoldedIn)
                {
                    folded++;
                }
                else if (r.Source == RecommendationSource.Als)
                {
                    known++;
                }
                else if (unknownCount++ < BatchSummary.MaxUnknownIds)
                {
                    unknown.Add(r.User);
                }
            }

            progress?.Report(start + n);
        }

        return new BatchSummary(users.Count, known, folded, unknownCount, rows, unknown);
    }

    /// <summary>
    /// Reads the users of a batch: one line per interaction or per user, <c>user[,item[,weight]]</c>. A user's lines
    /// are merged, in the order the user first appears; items are the interactions to fold in for users the model
    /// does not know (weight 1 when absent). Blank lines are skipped, and so is a first line whose first field is a
    /// column name (user, user_id, userid, client, client_id, clientid, id). Quoting is RFC 4180 (read by Sep).
    /// </summary>
    /// <exception cref="FormatException">A weight is not a finite number; the message names the line.</exception>
    public static IReadOnlyList<RecommendationRequest> ReadUsers(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var order = new List<string>();
        var interactions = new Dictionary<string, List<KeyValuePair<string, float>>>(StringComparer.Ordinal);
        using var csv = InteractionCsv.Open(reader);
        var nextLine = 1;
        var first = true;
        foreach (var row in csv)
        {
            var number = InteractionCsv.LineOf(row, ref nextLine);
            var user = row[0].ToString();
            if (user.Length == 0)
            {
                continue;
            }

            if (first && InteractionCsv.NamesUserColumn(user))
            {
                first = false;
                continue;
            }

            first = false;
            if (!interactions.TryGetValue(user, out var list))
            {
                interactions[user] = list = [];
                order.Add(user);
            }

            var item = row.ColCount > 1 ? row[1].ToString() : string.Empty;
            if (item.Length > 0)
            {
                var weight = 1f;
                if (row.ColCount > 2 && (!float.TryParse(row[2].Span, NumberStyles.Float, CultureInfo.InvariantCulture, out weight) || !float.IsFinite(weight)))
                {
                    throw new FormatException($"Line {number}: weight '{row[2].ToString()}' is not a finite number.");
                }

                list.Add(new(item, weight));
            }
        }

        return [.. order.Select(u => new RecommendationRequest(u, interactions[u]))];
    }

    /// <summary>Writes <c>user,item,rank,score,source</c> lines with a header; ids are quoted where CSV needs it.</summary>
    public static void WriteCsv(TextWriter writer, IEnumerable<UserRecommendations> results)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(results);
        writer.WriteLine(CsvHeader);
        foreach (var r in results)
        {
            WriteRows(writer, r);
        }
    }

    private const string CsvHeader = "user,item,rank,score,source";

    private static void WriteRows(TextWriter writer, UserRecommendations r)
    {
        var user = Quote(r.User);
        for (var k = 0; k < r.Items.Count; k++)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{user},{Quote(r.Items[k].ItemId)},{k + 1},{r.Items[k].Score:G9},{r.SourceName}"));
        }
    }

    private static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static Recommendation[] Named(AlsModel model, ReadOnlySpan<ScoredItem> scored)
    {
        var result = new Recommendation[scored.Length];
        for (var k = 0; k < scored.Length; k++)
        {
            result[k] = new Recommendation(model.Items[scored[k].Item], scored[k].Score);
        }

        return result;
    }
}
