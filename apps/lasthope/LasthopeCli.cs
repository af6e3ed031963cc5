using System.CommandLine;
using Lasthope.Cli.Commands;

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
        root.Add(AlsCommands.CreateTrain(context));
        root.Add(AlsCommands.CreateRecommend(context));
        root.Add(AlsCommands.CreateSimilar(context));
        root.Add(EvaluateRecsCommand.Create(context));
        var model = ModelCommands.Create(context);
        ModelRegistryCommands.AddTo(model, context);
        root.Add(model);
        root.Add(TrainRankerCommand.Create(context));
        root.Add(LoadCommands.CreateLoadTest(context));
        root.Add(LoadCommands.CreateDepthStudy(context));
        root.Add(LogSummaryCommand.Create(context));
        root.Add(TrainLtrCommand.Create(context));
        root.Add(ReliabilityCommand.Create(context));
        return root;
    }

    /// <summary>Parses and runs; the entry point for Program and for tests.</summary>
    public static Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        var root = CreateRootCommand(context);
        return root.Parse(args).InvokeAsync(cancellationToken: cancellationToken);
    }
}
