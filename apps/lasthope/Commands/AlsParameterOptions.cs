using System.CommandLine;
using Lasthope.Factors;

namespace Lasthope.Cli.Commands;

/// <summary>The ALS hyperparameters as options, shared by train-als and evaluate-recs.</summary>
internal sealed class AlsParameterOptions
{
    private static readonly AlsOptions Defaults = new();

    public Option<int> Factors { get; } = new("--factors") { Description = "Factors (dimension of the vectors; when the search runs without it, chosen among 16, 32 and 64; otherwise 64).", DefaultValueFactory = _ => Defaults.Factors };

    public Option<float> Regularization { get; } = new("--regularization") { Description = "L2 regularization lambda (train-als: chosen with alpha by a search on a validation split when neither is given).", DefaultValueFactory = _ => Defaults.Regularization };

    public Option<float> Alpha { get; } = new("--alpha") { Description = "Confidence slope: c = 1 + alpha * weight (train-als: see --regularization).", DefaultValueFactory = _ => Defaults.Alpha };

    public Option<int> Iterations { get; } = new("--iterations") { Description = "ALS iterations.", DefaultValueFactory = _ => Defaults.Iterations };

    public Option<int> CgSteps { get; } = new("--cg-steps") { Description = "Conjugate-gradient steps per row and half-step.", DefaultValueFactory = _ => Defaults.CgSteps };

    public Option<AlsSolver> Solver { get; } = new("--solver") { Description = "Row solver: ConjugateGradient or Cholesky (exact).", DefaultValueFactory = _ => Defaults.Solver };

    public Option<ConfidenceScaling> Confidence { get; } = new("--confidence") { Description = "Linear (1 + alpha r) or Logarithmic (1 + alpha log(1 + r / epsilon)).", DefaultValueFactory = _ => Defaults.Confidence };

    public Option<float> Epsilon { get; } = new("--epsilon") { Description = "Epsilon of the logarithmic confidence.", DefaultValueFactory = _ => Defaults.Epsilon };

    public Option<int> Threads { get; } = new("--threads") { Description = "Worker threads (default: the processor count).", DefaultValueFactory = _ => Environment.ProcessorCount };

    public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the initial factors (and of splits, where there are any).", DefaultValueFactory = _ => Defaults.Seed };

    /// <summary>
    /// Whether train-als leaves the regularization and alpha to the search: when neither was given (with one of them
    /// given, the other keeps the library default, as before the search existed).
    /// </summary>
    public bool SearchRequested(ParseResult parse) =>
        parse.GetResult(Regularization) is not { Implicit: false } && parse.GetResult(Alpha) is not { Implicit: false };

    /// <summary>The regularization to hold fixed in a search (--grid): the given one, or null to search it.</summary>
    public float? GivenRegularization(ParseResult parse) => parse.GetResult(Regularization) is { Implicit: false } ? parse.GetValue(Regularization) : null;

    /// <summary>The alpha to hold fixed in a search (--grid): the given one, or null to search it.</summary>
    public float? GivenAlpha(ParseResult parse) => parse.GetResult(Alpha) is { Implicit: false } ? parse.GetValue(Alpha) : null;

    /// <summary>Whether --factors was given; without it the search chooses the factors too (<see cref="AlsTuningOptions.DefaultFactorCandidates"/>).</summary>
    public bool FactorsGiven(ParseResult parse) => parse.GetResult(Factors) is { Implicit: false };

    /// <summary>The factor counts the search chooses from: none (the given count) when --factors was given.</summary>
    public IReadOnlyList<int>? FactorCandidates(ParseResult parse) => FactorsGiven(parse) ? null : AlsTuningOptions.DefaultFactorCandidates;

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Factors, Regularization, Alpha, Iterations, CgSteps, Solver, Confidence, Epsilon, Threads, Seed })
        {
            command.Add(option);
        }
    }

    public bool TryRead(ParseResult parse, CliContext context, out AlsOptions options, out int failure)
    {
        options = new AlsOptions
        {
            Factors = parse.GetValue(Factors),
            Regularization = parse.GetValue(Regularization),
            Alpha = parse.GetValue(Alpha),
            Iterations = parse.GetValue(Iterations),
            CgSteps = parse.GetValue(CgSteps),
            Solver = parse.GetValue(Solver),
            Confidence = parse.GetValue(Confidence),
            Epsilon = parse.GetValue(Epsilon),
            Threads = parse.GetValue(Threads),
            Seed = parse.GetValue(Seed),
        };
        failure = ExitCodes.Ok;
        try
        {
            options.Validate();
            return true;
        }
        catch (ArgumentOutOfRangeException e)
        {
            failure = context.Fail(ExitCodes.BadInput, $"invalid ALS option: {e.Message}");
            return false;
        }
    }
}
