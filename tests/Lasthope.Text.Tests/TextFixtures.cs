using Lasthope.Testing;

namespace Lasthope.Text.Tests;

/// <summary>Small real subsets, read once per process: a few BANKING77 intents, train and test.</summary>
internal static class TextFixtures
{
    private static readonly Lazy<(TextData Train, TextData Test)> Banking = new(() =>
    {
        var dir = TestData.Require("complaints/banking77");
        var options = new TextReadOptions { Text = "text", Label = "category" };
        var keep = new HashSet<string>(["card_arrival", "card_payment_fee_charged", "terminate_account", "transaction_charged_twice", "request_refund", "declined_card_payment"], StringComparer.Ordinal);
        return (Take(TextData.Read(Path.Combine(dir, "train.csv"), options), keep, 60), Take(TextData.Read(Path.Combine(dir, "test.csv"), options), keep, 20));
    });

    /// <summary>Six BANKING77 intents: 60 training and 20 test texts of each (360 and 120).</summary>
    public static (TextData Train, TextData Test) Banking77Subset()
    {
        _ = TestData.Require("complaints/banking77");
        return Banking.Value;
    }

    private static TextData Take(TextData data, HashSet<string> classes, int perClass)
    {
        var rows = Enumerable.Range(0, data.Rows).Where(i => classes.Contains(data.Labels[i])).GroupBy(i => data.Labels[i]).SelectMany(g => g.Take(perClass)).Order().ToArray();
        return data.Subset(rows);
    }
}
