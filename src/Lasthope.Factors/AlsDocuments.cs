using System.Text.Json;
using System.Text.Json.Serialization;
using Lasthope.Core.Serving;

namespace Lasthope.Factors;

/// <summary>
/// One ranked item in the HTTP API's shape, member for member: <c>{"id", "rank", "score", "source", "propensity"}</c>,
/// rank from 1, the score as the server writes it (the float score widened to double, so both print the same digits),
/// the source as <see cref="ItemSource"/> (als, popular), and the propensity 1 (an offline list explores nothing). The
/// server's <c>RankedItemDto</c> and the client's <c>RankedItem</c> declare the same members: a test in
/// Lasthope.Cli.Tests (RecommendJsonShapeTests) compares the three and the JSON of the CLI with the server's for one model.
/// </summary>
public sealed record RankedItem(string Id, int Rank, double Score, ItemSource Source, double Propensity = 1)
{
    /// <summary>The items of a list in their order, each tagged with <paramref name="source"/>.</summary>
    public static IReadOnlyList<RankedItem> From(IReadOnlyList<Recommendation> items, ItemSource source)
    {
        ArgumentNullException.ThrowIfNull(items);
        var result = new RankedItem[items.Count];
        for (var k = 0; k < items.Count; k++)
        {
            result[k] = new RankedItem(items[k].ItemId, k + 1, items[k].Score, source);
        }

        return result;
    }
}

/// <summary>A user's recommendations (<c>lasthope recommend USER --json</c>).</summary>
/// <param name="User">The user.</param>
/// <param name="ModelVersion">The model that recommended.</param>
/// <param name="FoldedIn">The user was not in the model and was folded in from their interactions.</param>
/// <param name="Items">The list, each item tagged with where it came from.</param>
public sealed record UserRecommendationsDocument(string User, string ModelVersion, bool FoldedIn, IReadOnlyList<RankedItem> Items)
{
    /// <summary>The document of <paramref name="result"/>.</summary>
    public static UserRecommendationsDocument From(UserRecommendations result, string modelVersion)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new UserRecommendationsDocument(result.User, modelVersion, result.FoldedIn, RankedItem.From(result.Items, AlsRecommendations.ItemSourceOf(result.Source)));
    }

    /// <summary>One line of camelCase JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, AlsJsonContext.Default.UserRecommendationsDocument);
}

/// <summary>The items most similar to an item (<c>lasthope similar ITEM --json</c>).</summary>
/// <param name="Item">The item asked about.</param>
/// <param name="ModelVersion">The model whose factors were compared.</param>
/// <param name="Items">The nearest items by cosine, source als.</param>
public sealed record SimilarItemsDocument(string Item, string ModelVersion, IReadOnlyList<RankedItem> Items)
{
    /// <summary>The document of <paramref name="similar"/> (<see cref="AlsModel.Similar(string, int)"/>).</summary>
    public static SimilarItemsDocument From(string item, string modelVersion, IReadOnlyList<Recommendation> similar) =>
        new(item, modelVersion, RankedItem.From(similar, ItemSource.Als));

    /// <summary>One line of camelCase JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, AlsJsonContext.Default.SimilarItemsDocument);
}

/// <summary>A model's hyperparameters as the model registry stores them (<c>train-als --register</c>).</summary>
/// <param name="Factors">Factors.</param>
/// <param name="Regularization">L2 regularization.</param>
/// <param name="Alpha">Confidence slope.</param>
/// <param name="Iterations">Iterations trained.</param>
/// <param name="CgSteps">Conjugate-gradient steps.</param>
/// <param name="Seed">Seed of the initial factors.</param>
/// <param name="ChosenBy"><c>given</c> on the command line, <c>search</c> or <c>grid</c>.</param>
public sealed record AlsParametersDocument(int Factors, float Regularization, float Alpha, int Iterations, int CgSteps, int Seed, string ChosenBy)
{
    /// <summary>The hyperparameters of <paramref name="model"/>, chosen by <paramref name="tuning"/> when it is not null.</summary>
    public static AlsParametersDocument From(AlsModel model, AlsTuningResult? tuning)
    {
        ArgumentNullException.ThrowIfNull(model);
        var o = model.Training.Options;
        return new AlsParametersDocument(o.Factors, o.Regularization, o.Alpha, model.Training.IterationsTrained, o.CgSteps, o.Seed, ChosenByName(tuning));
    }

    /// <summary><c>search</c> or <c>grid</c> when a search chose the hyperparameters (<see cref="AlsTuningResult.Method"/>), else <c>given</c>.</summary>
    public static string ChosenByName(AlsTuningResult? tuning) => tuning is null ? "given" : tuning.Method;

    /// <summary>One line of camelCase JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, AlsJsonContext.Default.AlsParametersDocument);
}

/// <summary>What the hyperparameter search found on its validation split (<see cref="AlsTuning.Tune"/>).</summary>
/// <param name="Objective">What was maximised, on which split.</param>
/// <param name="Score">The objective at the point chosen.</param>
/// <param name="ValidationUsers">Users of the validation split.</param>
/// <param name="Trials">How many trials ran.</param>
/// <param name="Seconds">Wall time, rounded to 0.01 s.</param>
/// <param name="BudgetExhausted">The search stopped at its time budget.</param>
public sealed record AlsValidationDocument(string Objective, double Score, int ValidationUsers, int Trials, double Seconds, bool BudgetExhausted)
{
    /// <summary>The summary of <paramref name="tuning"/>.</summary>
    public static AlsValidationDocument From(AlsTuningResult tuning)
    {
        ArgumentNullException.ThrowIfNull(tuning);
        return new AlsValidationDocument(tuning.Objective, tuning.Score, tuning.ValidationUsers, tuning.Trials.Count, Math.Round(tuning.Elapsed.TotalSeconds, 2), tuning.BudgetExhausted);
    }

    /// <summary>One line of camelCase JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, AlsJsonContext.Default.AlsValidationDocument);
}

/// <summary>A trained model file (<c>lasthope train-als --json</c>).</summary>
/// <param name="Model">The file written.</param>
/// <param name="Version">The model's version.</param>
/// <param name="Users">Users of the model.</param>
/// <param name="Items">Items of the model.</param>
/// <param name="Factors">Factors.</param>
/// <param name="Regularization">L2 regularization.</param>
/// <param name="Alpha">Confidence slope.</param>
/// <param name="Iterations">Iterations trained.</param>
/// <param name="CgSteps">Conjugate-gradient steps.</param>
/// <param name="Seed">Seed of the initial factors.</param>
/// <param name="FinalLoss">The last iteration's loss; null (omitted) when not computed.</param>
/// <param name="ChosenBy"><c>given</c>, <c>search</c> or <c>grid</c>.</param>
/// <param name="Search">The search, when one chose the hyperparameters.</param>
/// <param name="Seconds">Wall time of search and training, rounded to 0.001 s.</param>
public sealed record AlsModelDocument(
    string Model, string Version, int Users, int Items, int Factors, float Regularization, float Alpha, int Iterations, int CgSteps, int Seed,
    double? FinalLoss, string ChosenBy, AlsValidationDocument? Search, double Seconds)
{
    /// <summary>The summary of <paramref name="model"/>, written to <paramref name="path"/>.</summary>
    public static AlsModelDocument From(AlsModel model, string path, TimeSpan elapsed, AlsTuningResult? tuning)
    {
        ArgumentNullException.ThrowIfNull(model);
        var o = model.Training.Options;
        return new AlsModelDocument(
            path, model.Version, model.Users.Count, model.Items.Count, model.Factors, o.Regularization, o.Alpha, model.Training.IterationsTrained, o.CgSteps, o.Seed,
            double.IsFinite(model.Training.FinalLoss) ? model.Training.FinalLoss : null,
            AlsParametersDocument.ChosenByName(tuning),
            tuning is null ? null : AlsValidationDocument.From(tuning),
            Math.Round(elapsed.TotalSeconds, 3));
    }

    /// <summary>One line of camelCase JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, AlsJsonContext.Default.AlsModelDocument);
}

/// <summary>The source-generated serialiser of the ALS commands' documents: camelCase, one line each, nulls omitted.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(UserRecommendationsDocument))]
[JsonSerializable(typeof(SimilarItemsDocument))]
[JsonSerializable(typeof(AlsParametersDocument))]
[JsonSerializable(typeof(AlsValidationDocument))]
[JsonSerializable(typeof(AlsModelDocument))]
public sealed partial class AlsJsonContext : JsonSerializerContext;
