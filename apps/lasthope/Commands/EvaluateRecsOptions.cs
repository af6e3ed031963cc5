using System.CommandLine;
using Lasthope.Evaluation;
using Lasthope.Factors;

namespace Lasthope.Cli.Commands;

/// <summary>The options of <c>evaluate-recs</c>, in one place so the action can read them.</summary>
internal sealed class EvaluateRecsOptions
{
    public Option<string?> Input { get; } = new("--input", "-i") { Description = "One CSV of user,item[,weight[,timestamp]]: split per user (holdout, last-k) or by users (fold-in)." };

    public Option<string?> Train { get; } = new("--train") { Description = "Training CSV (with --test-users: the fold-in protocol)." };

    public Option<string?> TestUsers { get; } = new("--test-users") { Description = "CSV of users absent from --train (ids are namespaced apart): part folded in, the rest predicted." };

    public Option<string?> Test { get; } = new("--test") { Description = "CSV of held-out interactions of --train's users (the same ids): each known user is scored on their new items, their training items excluded." };

    public Option<CsvHeader> Header { get; } = new("--header") { Description = "Whether the CSVs' first line is a header.", DefaultValueFactory = _ => CsvHeader.Auto };

    public Option<RecsProtocol?> Protocol { get; } = new("--protocol") { Description = "Holdout, LastK or FoldIn (default: Holdout with --input, FoldIn with --test-users)." };

    public Option<double> HoldoutFraction { get; } = new("--holdout-fraction") { Description = "Holdout: share of each user's items held out.", DefaultValueFactory = _ => 0.2 };

    public Option<int> LastK { get; } = new("--last-k") { Description = "LastK: each user's most recent items held out.", DefaultValueFactory = _ => 1 };

    public Option<double> FoldInFraction { get; } = new("--fold-in-fraction") { Description = "FoldIn: share of each new user's items folded in; the rest is predicted.", DefaultValueFactory = _ => 0.5 };

    public Option<double> TestUserFraction { get; } = new("--test-user-fraction") { Description = "FoldIn with --input: share of users held out whole.", DefaultValueFactory = _ => 0.1 };

    public Option<int> MinTrainItems { get; } = new("--min-train-items") { Description = "Items each user keeps on the known side (users with no more are not evaluated).", DefaultValueFactory = _ => 1 };

    public Option<string> K { get; } = new("--k") { Description = "Cut-offs, comma-separated.", DefaultValueFactory = _ => "1,3,5,10,20" };

    public Option<PrecisionDenominator> Precision { get; } = new("--precision") { Description = "Precision denominator: K (standard) or MinKRelevant (min(k, |test|), as implicit).", DefaultValueFactory = _ => PrecisionDenominator.K };

    public Option<int> Resamples { get; } = new("--resamples") { Description = "Bootstrap resamples of the users.", DefaultValueFactory = _ => 1000 };

    public Option<double> Level { get; } = new("--level") { Description = "Confidence level of the intervals.", DefaultValueFactory = _ => 0.95 };

    public Option<bool> Search { get; } = new("--search") { Description = "Choose regularization, alpha and (without --factors) factors first, as train-als does without them: a search on a validation split of the training part." };

    public Option<double> ValidationFraction { get; } = new("--validation-fraction") { Description = "Search: share of each training user's items held out for validation.", DefaultValueFactory = _ => 0.2 };

    public Option<string> SearchMetric { get; } = new("--search-metric") { Description = "Search objective: precision, recall, ndcg, map or coverage.", DefaultValueFactory = _ => RecsMetrics.Ndcg };

    public Option<int> SearchK { get; } = new("--search-k") { Description = "Search objective cut-off.", DefaultValueFactory = _ => 10 };

    public Option<double> SearchBudget { get; } = AlsProgress.SearchBudgetOption();

    public Option<string?> Json { get; } = new("--json") { Description = "Write the results as JSON to FILE ('-' for standard output)." };

    public Option<string?> Chart { get; } = new("--chart") { Description = "Draw metric against k for ALS and popularity to FILE (.png or .svg)." };

    public AlsParameterOptions Als { get; } = new();

    /// <summary>The cut-offs of <c>--k</c>: false unless it lists integers of at least 1.</summary>
    public bool TryReadKs(ParseResult parse, out int[] ks) =>
        TryParseList(parse.GetValue(K)!, int.Parse, out ks) && ks.Length > 0 && ks.All(k => k >= 1);

    public void AddTo(Command command)
    {
        foreach (var option in new Option[]
        {
            Input, Train, TestUsers, Test, Header, Protocol, HoldoutFraction, LastK, FoldInFraction, TestUserFraction, MinTrainItems,
            K, Precision, Resamples, Level, Search, ValidationFraction, SearchMetric, SearchK, SearchBudget, Json, Chart,
        })
        {
            command.Add(option);
        }

        Als.AddTo(command);
    }

    private static bool TryParseList<T>(string text, Func<string, T> parse, out T[] values)
    {
        try
        {
            values = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse).ToArray();
            return true;
        }
        catch (FormatException)
        {
            values = [];
            return false;
        }
        catch (OverflowException)
        {
            values = [];
            return false;
        }
    }
}
