using System.CommandLine;
using System.Globalization;
using Lasthope.Factors;

namespace Lasthope.Cli.Commands;

/// <summary><c>lasthope similar ITEM</c>: the items nearest an item by cosine of their ALS factors.</summary>
internal static class SimilarCommand
{
    public static Command Create(CliContext context)
    {
        var item = new Argument<string>("item") { Description = "The item (keyword) id." };
        var modelFile = AlsModelFile.ModelFileOption();
        var count = AlsModelFile.CountOption();
        var json = new Option<bool>("--json") { Description = "Print JSON instead of item<TAB>score lines." };
        var command = new Command("similar", "The items most similar to an item, by cosine of their ALS factors.") { item, modelFile, count, json };
        command.SetAction((parse, cancellationToken) =>
        {
            if (!AlsModelFile.TryLoadModel(parse.GetValue(modelFile)!, context, out var model, out var failure))
            {
                return Task.FromResult(failure);
            }

            var itemId = parse.GetValue(item)!;
            if (!model.Items.TryGetIndex(itemId, out _))
            {
                return Task.FromResult(context.Fail(ExitCodes.NotFound, $"item '{itemId}' is not in the model."));
            }

            var n = parse.GetValue(count);
            if (n < 1)
            {
                return Task.FromResult(context.Fail(ExitCodes.BadInput, "--count must be at least 1."));
            }

            var similar = model.Similar(itemId, n);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(SimilarItemsDocument.From(itemId, model.Version, similar).ToJson());
            }
            else
            {
                foreach (var r in similar)
                {
                    context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.ItemId}\t{r.Score:G6}"));
                }
            }

            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}
