using System.Globalization;
using Lasthope.Evaluation;

namespace Lasthope.Factors;

/// <summary>How an offline evaluation of ALS against popularity splits its interactions (<see cref="RecsExperiment"/>).</summary>
public enum RecsProtocol
{
    /// <summary>A seeded per-user random holdout of each user's items; the model recommends for the users it trained on.</summary>
    Holdout,

    /// <summary>Each user's most recent items held out (needs timestamps).</summary>
    LastK,

    /// <summary>Users unseen in training: part of each new user's items is folded in, the rest predicted.</summary>
    FoldIn,

    /// <summary>A given train/test split of known users (<see cref="KnownUserProtocol"/>).</summary>
    KnownUsers,
}

/// <summary>
/// The settings of the splits of <see cref="RecsExperiment"/>. Each factory reads the ones its protocol uses and
/// validates only those, so an unused setting never fails a run.
/// </summary>
public sealed record RecsSplitOptions
{
    /// <summary>Holdout: the share of each user's items held out, in (0, 1).</summary>
    public double HoldoutFraction { get; init; } = 0.2;

    /// <summary>LastK: each user's most recent distinct items held out, at least 1.</summary>
    public int LastK { get; init; } = 1;

    /// <summary>FoldIn: the share of each new user's items folded in, in (0, 1); the rest is predicted.</summary>
    public double FoldInFraction { get; init; } = 0.5;

    /// <summary>FoldIn of held-out users: the share of the log's users held out whole, in (0, 1).</summary>
    public double TestUserFraction { get; init; } = 0.1;

    /// <summary>Distinct items each user keeps on the known side, at least 1 (users with no more are not evaluated).</summary>
    public int MinTrainItems { get; init; } = 1;

    /// <summary>Seed of the random splits (holdout and fold-in; leave-last-k and known users draw nothing).</summary>
    public int Seed { get; init; } = 42;
}

/// <summary>
/// What a split was made of and what it left out, as the evaluation report's <c>split</c> object: null properties
/// did not apply to the protocol (and are omitted from the JSON). The declaration order is the JSON order.
/// </summary>
public sealed record RecsSplitSettings
{
    /// <summary>The one log split per user or by users (holdout, last-k, fold-in of held-out users).</summary>
    public string? Input { get; init; }

    /// <summary>The training log (known users, fold-in of new users).</summary>
    public string? Train { get; init; }

    /// <summary>The held-out interactions of the training log's users (known users).</summary>
    public string? Test { get; init; }

    /// <summary>The log of new users (fold-in of new users).</summary>
    public string? TestUsers { get; init; }

    public double? HoldoutFraction { get; init; }

    public int? LastK { get; init; }

    public double? TestUserFraction { get; init; }

    public double? FoldInFraction { get; init; }

    /// <summary>Fold-in of new users: the users of the new-user log.</summary>
    public int? TestUserCount { get; init; }

    /// <summary>Fold-in of new users: their items the training log never saw (they count in |test|; nothing can hit them).</summary>
    public int? UnknownTestItems { get; init; }

    /// <summary>Known users: test users absent from training (not evaluated).</summary>
    public int? UnknownTestUsers { get; init; }

    /// <summary>Known users: test users whose test items were all in their training part (not evaluated).</summary>
    public int? UsersWithNothingNew { get; init; }

    /// <summary>Known users: (user, item) test pairs already in training (left out of the relevant items).</summary>
    public int? SeenTestPairs { get; init; }

    public int? MinTrainItems { get; init; }

    public int? Seed { get; init; }
}

/// <summary>
/// One offline evaluation protocol of ALS against the popularity baseline, built from interaction logs: the training
/// matrix, the evaluation users (their known and relevant items) and what the split was. Train on
/// <see cref="Train"/>, score <see cref="Users"/> with <see cref="Recommender"/> and a
/// <see cref="PopularityRecommender"/>, and compare with <see cref="RecsEvaluation.Compare"/>.
/// </summary>
/// <param name="Description">A line saying what was split, naming the sources' file names.</param>
/// <param name="Protocol">The protocol.</param>
/// <param name="Train">The training matrix; its item indices are the catalogue the recommenders rank.</param>
/// <param name="Users">
/// The evaluation users. Their <see cref="EvaluationUser.User"/> is a training row for holdout, last-k and known users;
/// for fold-in it indexes the users of the fold-in log, unseen in training.
/// </param>
/// <param name="Settings">The split's settings and counts, for the report.</param>
/// <remarks>
/// The sources (<c>source</c>, <c>trainSource</c>, ...) only name the logs: they are written into
/// <see cref="Settings"/> as given and their file names into <see cref="Description"/>; nothing is read from them.
/// </remarks>
public sealed record RecsExperiment(string Description, RecsProtocol Protocol, InteractionMatrix Train, IReadOnlyList<EvaluationUser> Users, RecsSplitSettings Settings)
{
    /// <summary>The evaluation users are unseen in training and are folded in before ranking.</summary>
    public bool FoldsIn => Protocol == RecsProtocol.FoldIn;

    /// <summary>The protocol's name in reports: holdout, last-k, fold-in or known-users.</summary>
    public string ProtocolName => Protocol switch
    {
        RecsProtocol.Holdout => "holdout",
        RecsProtocol.LastK => "last-k",
        RecsProtocol.KnownUsers => "known-users",
        _ => "fold-in",
    };

    /// <summary>ALS for these users: fold-in (<see cref="AlsFoldInRecommender"/>) or known (<see cref="AlsKnownUserRecommender"/>).</summary>
    /// <param name="model">A model trained on <see cref="Train"/>.</param>
    public ITopKRecommender Recommender(AlsModel model) => FoldsIn ? new AlsFoldInRecommender(model) : new AlsKnownUserRecommender(model);

    /// <summary>
    /// Per-user random holdout: of each user's n distinct items, about <see cref="RecsSplitOptions.HoldoutFraction"/>
    /// of them (<see cref="Splits.PerUserHoldout"/>) are held out; the model trains on the rest and recommends for the
    /// same users.
    /// </summary>
    /// <param name="log">The interactions.</param>
    /// <param name="source">Where the log came from (a path).</param>
    /// <param name="options">Reads <see cref="RecsSplitOptions.HoldoutFraction"/>, <see cref="RecsSplitOptions.MinTrainItems"/> and <see cref="RecsSplitOptions.Seed"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting it reads is out of range.</exception>
    public static RecsExperiment Holdout(InteractionLog log, string source, RecsSplitOptions options)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        CheckFraction(options.HoldoutFraction, "holdout fraction", nameof(options));
        CheckMinTrainItems(options.MinTrainItems, nameof(options));
        var isTest = Splits.PerUserHoldout(log.UserIndices, log.ItemIndices, options.HoldoutFraction, options.Seed, options.MinTrainItems);
        return WithinLog(
            log, isTest, $"per-user holdout on {Path.GetFileName(source)}", RecsProtocol.Holdout,
            new RecsSplitSettings { Input = source, HoldoutFraction = options.HoldoutFraction, MinTrainItems = options.MinTrainItems, Seed = options.Seed });
    }

    /// <summary>
    /// Leave-last-k by time: each user's <see cref="RecsSplitOptions.LastK"/> most recent distinct items are held out
    /// (<see cref="Splits.LeaveLastK"/>); the model trains on the rest and recommends for the same users.
    /// </summary>
    /// <param name="log">The interactions, with timestamps.</param>
    /// <param name="source">Where the log came from (a path).</param>
    /// <param name="options">Reads <see cref="RecsSplitOptions.LastK"/> and <see cref="RecsSplitOptions.MinTrainItems"/>.</param>
    /// <exception cref="ArgumentException">The log has no timestamps.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting it reads is out of range.</exception>
    public static RecsExperiment LastK(InteractionLog log, string source, RecsSplitOptions options)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        if (!log.HasTimestamps)
        {
            throw new ArgumentException($"{source} has no timestamp column: leave-last-k needs user,item,weight,timestamp.", nameof(log));
        }

        if (options.LastK < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), Invariant($"The items held out per user (last k) must be at least 1, not {options.LastK}."));
        }

        CheckMinTrainItems(options.MinTrainItems, nameof(options));
        var isTest = Splits.LeaveLastK(log.UserIndices, log.ItemIndices, log.Timestamps, options.LastK, options.MinTrainItems);
        return WithinLog(
            log, isTest, $"leave-last-k on {Path.GetFileName(source)}", RecsProtocol.LastK,
            new RecsSplitSettings { Input = source, LastK = options.LastK, MinTrainItems = options.MinTrainItems });
    }

    /// <summary>
    /// A given split of known users (<see cref="KnownUserProtocol.Create"/>): the model trains on
    /// <paramref name="train"/>, and each user of <paramref name="test"/> it knows is evaluated on their items the
    /// training part did not have, with those training items excluded.
    /// </summary>
    /// <param name="train">The training log.</param>
    /// <param name="test">The test log, read with the training log's user and item maps (shared ids share indices).</param>
    /// <param name="trainSource">Where the training log came from.</param>
    /// <param name="testSource">Where the test log came from.</param>
    /// <exception cref="ArgumentException">The test log's ids do not extend the training log's.</exception>
    public static RecsExperiment KnownUsers(InteractionLog train, InteractionLog test, string trainSource, string testSource)
    {
        ArgumentNullException.ThrowIfNull(trainSource);
        ArgumentNullException.ThrowIfNull(testSource);
        var (matrix, split) = KnownUserProtocol.Create(train, test);
        return new RecsExperiment(
            $"known users of {Path.GetFileName(testSource)} after {Path.GetFileName(trainSource)}", RecsProtocol.KnownUsers, matrix, split.Users,
            new RecsSplitSettings { Train = trainSource, Test = testSource, UnknownTestUsers = split.UnknownUsers, UsersWithNothingNew = split.UsersWithNothingNew, SeenTestPairs = split.SeenPairs });
    }

    /// <summary>
    /// Fold-in of new users from a log of their own: the model trains on all of <paramref name="train"/>; each user of
    /// <paramref name="testUsers"/> (a different person from a training user of the same id) has
    /// <see cref="RecsSplitOptions.FoldInFraction"/> of their items folded in, the exact solve production uses, and
    /// the rest predicted.
    /// </summary>
    /// <param name="train">The training log.</param>
    /// <param name="testUsers">
    /// The new users, read with the training log's item map only (<c>new InteractionLogBuilder(null, train.Items)</c>):
    /// items training never saw get indices past the catalogue.
    /// </param>
    /// <param name="trainSource">Where the training log came from.</param>
    /// <param name="testUsersSource">Where the new users' log came from.</param>
    /// <param name="options">Reads <see cref="RecsSplitOptions.FoldInFraction"/>, <see cref="RecsSplitOptions.MinTrainItems"/> and <see cref="RecsSplitOptions.Seed"/>.</param>
    /// <exception cref="ArgumentException">The new users' item ids do not extend the training log's.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting it reads is out of range.</exception>
    public static RecsExperiment FoldInNewUsers(InteractionLog train, InteractionLog testUsers, string trainSource, string testUsersSource, RecsSplitOptions options)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(testUsers);
        ArgumentNullException.ThrowIfNull(trainSource);
        ArgumentNullException.ThrowIfNull(testUsersSource);
        ArgumentNullException.ThrowIfNull(options);
        if (!KnownUserProtocol.Extends(testUsers.Items, train.Items))
        {
            throw new ArgumentException("The new users' log must be read with the training log's item map.", nameof(testUsers));
        }

        CheckFraction(options.FoldInFraction, "fold-in fraction", nameof(options));
        CheckMinTrainItems(options.MinTrainItems, nameof(options));
        var isTest = Splits.PerUserHoldout(testUsers.UserIndices, testUsers.ItemIndices, 1 - options.FoldInFraction, options.Seed, options.MinTrainItems);
        var users = EvaluationUser.FromSplit(testUsers.UserIndices, testUsers.ItemIndices, testUsers.Weights, isTest);
        return new RecsExperiment(
            $"fold-in of {Path.GetFileName(testUsersSource)} into {Path.GetFileName(trainSource)}", RecsProtocol.FoldIn, train.ToMatrix(), users,
            new RecsSplitSettings
            {
                Train = trainSource, TestUsers = testUsersSource, FoldInFraction = options.FoldInFraction, TestUserCount = testUsers.Users.Count,
                UnknownTestItems = testUsers.Items.Count - train.Items.Count, MinTrainItems = options.MinTrainItems, Seed = options.Seed,
            });
    }

    /// <summary>
    /// Fold-in of held-out users of one log: <see cref="RecsSplitOptions.TestUserFraction"/> of its users
    /// (<see cref="Splits.HoldOutUsers"/>) are held out whole, the model trains on the others, and each held-out user
    /// has <see cref="RecsSplitOptions.FoldInFraction"/> of their items folded in and the rest predicted.
    /// </summary>
    /// <param name="log">The interactions.</param>
    /// <param name="source">Where the log came from (a path).</param>
    /// <param name="options">
    /// Reads <see cref="RecsSplitOptions.TestUserFraction"/>, <see cref="RecsSplitOptions.FoldInFraction"/>,
    /// <see cref="RecsSplitOptions.MinTrainItems"/> and <see cref="RecsSplitOptions.Seed"/>.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">A setting it reads is out of range.</exception>
    public static RecsExperiment FoldInHeldOutUsers(InteractionLog log, string source, RecsSplitOptions options)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        CheckFraction(options.TestUserFraction, "test-user fraction", nameof(options));
        CheckFraction(options.FoldInFraction, "fold-in fraction", nameof(options));
        CheckMinTrainItems(options.MinTrainItems, nameof(options));
        var isTestUser = Splits.HoldOutUsers(log.Users.Count, options.TestUserFraction, options.Seed);
        var holdout = Splits.PerUserHoldout(log.UserIndices, log.ItemIndices, 1 - options.FoldInFraction, options.Seed, options.MinTrainItems);
        var isTest = new bool[log.Count];
        var include = new bool[log.Count];
        for (var e = 0; e < log.Count; e++)
        {
            var testUser = isTestUser[log.UserIndices[e]];
            isTest[e] = testUser && holdout[e];
            include[e] = !testUser;
        }

        // Known = the folded-in part of test users only: training users have no test items and drop out.
        var users = EvaluationUser.FromSplit(log.UserIndices, log.ItemIndices, log.Weights, isTest)
            .Where(user => isTestUser[user.User]).ToList();
        return new RecsExperiment(
            $"fold-in of held-out users of {Path.GetFileName(source)}", RecsProtocol.FoldIn, log.ToMatrix(include), users,
            new RecsSplitSettings { Input = source, TestUserFraction = options.TestUserFraction, FoldInFraction = options.FoldInFraction, MinTrainItems = options.MinTrainItems, Seed = options.Seed });
    }

    /// <summary>Trains on the events not held out, evaluates the users with held-out items.</summary>
    private static RecsExperiment WithinLog(InteractionLog log, bool[] isTest, string description, RecsProtocol protocol, RecsSplitSettings settings)
    {
        var include = isTest.Select(t => !t).ToArray();
        return new RecsExperiment(description, protocol, log.ToMatrix(include), EvaluationUser.FromSplit(log.UserIndices, log.ItemIndices, log.Weights, isTest), settings);
    }

    private static void CheckFraction(double value, string what, string paramName)
    {
        if (!(value is > 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(paramName, Invariant($"The {what} must be in (0, 1), not {value}."));
        }
    }

    private static void CheckMinTrainItems(int value, string paramName)
    {
        if (value < 1)
        {
            throw new ArgumentOutOfRangeException(paramName, Invariant($"The items each user keeps on the known side (min train items) must be at least 1, not {value}."));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
