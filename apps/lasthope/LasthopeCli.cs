using System.CommandLine;
using Lasthope.Cli.Commands;
using Lasthope.Core.Storage;

namespace Lasthope.Cli;

/// <summary>Builds the command tree. Each area's commands live in Commands/ as a static class with Create methods.</summary>
public static class LasthopeCli
{
    public static RootCommand CreateRootCommand(CliContext context)
    {
        var root = new RootCommand("Lasthope: ranking and recommendations that are fast, never blank, and truthful about what served them.");
        root.Add(DemoCommand.Create(context));
        root.Add(ServeCommand.Create(context));
        root.Add(ImportCommand.Create(context));
        root.Add(StatsCommand.Create(context));
        root.Add(PositionBiasCommand.Create(context));
        root.Add(TrainAlsCommand.Create(context));
        root.Add(RecommendCommand.Create(context));
        root.Add(SimilarCommand.Create(context));
        root.Add(EvaluateRecsCommand.Create(context));
        var model = ModelCommands.Create(context);
        ModelRegistryCommands.AddTo(model, context);
        root.Add(model);
        root.Add(TrainRankerCommand.Create(context));
        root.Add(TrainModelCommand.Create(context));
        root.Add(TrainTextCommand.Create(context));
        root.Add(BarometerCommand.Create(context));
        root.Add(ScoreBatchCommand.Create(context));
        root.Add(RetrainCommand.Create(context));
        root.Add(LoadCommands.CreateLoadTest(context));
        root.Add(LoadCommands.CreateDepthStudy(context));
        root.Add(LogSummaryCommand.Create(context));
        root.Add(ExperimentCommand.Create(context));
        root.Add(OpeCommand.Create(context));
        root.Add(ReplayCommand.Create(context));
        root.Add(TrainLtrCommand.Create(context));
        root.Add(ReliabilityCommand.Create(context));
        root.Add(EditNeedCommand.Create(context)); root.Add(AnnotateCommand.Create(context));
        return root;
    }

    /// <summary>
    /// Parses and runs; the entry point for Program and for tests. A command line that does not parse exits 2 with one
    /// line naming the problem and a short usage on standard error; a tool asked to read a data directory that does
    /// not exist exits 3 having created nothing.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var root = CreateRootCommand(context);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            context.Error.WriteLine($"error: {string.Join(' ', parse.Errors[0].Message.Split(default(char[]), StringSplitOptions.RemoveEmptyEntries))}");
            context.Error.WriteLine($"usage: {Usage(parse.CommandResult.Command)}");
            context.Error.WriteLine($"       ({string.Join(' ', Path(parse.CommandResult.Command))} --help for every option)");
            return ExitCodes.BadInput;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (StoreNotFoundException e)
        {
            return context.Fail(ExitCodes.NotFound, e.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return context.Fail(ExitCodes.Cancelled, "interrupted");
        }
    }

    /// <summary>One line: the command's path, its arguments, and [options].</summary>
    private static string Usage(Command command)
    {
        var arguments = command.Arguments.Where(a => !a.Hidden).Select(a => a.Name.ToUpperInvariant());
        var options = command.Options.Any(o => !o.Hidden) ? " [options]" : "";
        var sub = command.Subcommands.Count > 0 ? $" <{string.Join('|', command.Subcommands.Select(c => c.Name))}>" : "";
        return string.Join(' ', [.. Path(command), .. arguments]) + sub + options;
    }

    private static List<string> Path(Command command)
    {
        var path = new List<string>();
        for (Symbol? symbol = command; symbol is Command c; symbol = c.Parents.FirstOrDefault())
        {
            path.Insert(0, c is RootCommand ? "lasthope" : c.Name);
        }

        return path;
    }
}
