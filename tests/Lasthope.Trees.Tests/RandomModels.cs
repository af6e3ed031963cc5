using System.Globalization;
using System.Text;

namespace Lasthope.Trees.Tests;

/// <summary>
/// Random LightGBM text models, for properties checked against lib_lightgbm itself: trees grown by splitting random
/// leaves (so they are lopsided, like LightGBM's leaf-wise trees), of 1 to 90 leaves (both sides of the bitvector
/// kernel's 64), numerical splits of every missing type and default direction on thresholds drawn from a small set
/// (so inputs hit them exactly), categorical splits with bitsets of one to three words, counts that add up, and
/// leaf values with all 17 digits.
/// </summary>
internal static class RandomModels
{
    public const int Features = 6;

    private static readonly double[] Thresholds = [-1, -0.5, 0, 1e-35, 0.25, 0.5, 1, 2.5, 1e300];

    /// <summary>Model text with <paramref name="trees"/> iterations of <paramref name="classes"/> trees.</summary>
    public static string Make(int seed, int trees, int maxLeaves, int classes = 1, bool categorical = true)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        text.Append("tree\nversion=v4\n")
            .Append(Inv($"num_class={classes}\nnum_tree_per_iteration={classes}\nlabel_index=0\nmax_feature_idx={Features - 1}\n"))
            .Append(classes > 1 ? Inv($"objective=multiclass num_class:{classes}\n") : "objective=regression\n")
            .Append("feature_names=").AppendJoin(' ', Enumerable.Range(0, Features).Select(f => $"f{f}")).Append('\n')
            .Append("feature_infos=").AppendJoin(' ', Enumerable.Repeat("[-10:10]", Features)).Append("\n\n");
        for (var t = 0; t < trees * classes; t++)
        {
            AppendTree(text, t, random, 1 + random.Next(maxLeaves), categorical);
        }

        return text.Append("end of trees\n").ToString();
    }

    /// <summary>
    /// <paramref name="trees"/> chains of <paramref name="leaves"/> leaves on f0: node i sends f0 &lt;= i to leaf i, whose
    /// value is i, and the rest to node i + 1; the last node's right child is the last leaf. With
    /// <paramref name="shift"/>, tree t's thresholds are i + t * shift (distinct thresholds across trees).
    /// </summary>
    public static string Chains(int trees, int leaves, double shift = 0)
    {
        var text = new StringBuilder();
        text.Append("tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\n")
            .Append(Inv($"max_feature_idx={Features - 1}\nobjective=regression\n"))
            .Append("feature_names=").AppendJoin(' ', Enumerable.Range(0, Features).Select(f => $"f{f}")).Append('\n')
            .Append("feature_infos=").AppendJoin(' ', Enumerable.Repeat("[-10:10]", Features)).Append("\n\n");
        var n = leaves - 1;
        for (var t = 0; t < trees; t++)
        {
            text.Append(Inv($"Tree={t}\nnum_leaves={leaves}\nnum_cat=0\n"))
                .Append("split_feature=").AppendJoin(' ', Enumerable.Repeat(0, n)).Append('\n')
                .Append("split_gain=").AppendJoin(' ', Enumerable.Repeat(1, n)).Append('\n')
                .Append("threshold=").AppendJoin(' ', Enumerable.Range(0, n).Select(i => Inv($"{i + (t * shift):R}"))).Append('\n')
                .Append("decision_type=").AppendJoin(' ', Enumerable.Repeat(0, n)).Append('\n')
                .Append("left_child=").AppendJoin(' ', Enumerable.Range(0, n).Select(i => ~i)).Append('\n')
                .Append("right_child=").AppendJoin(' ', Enumerable.Range(1, n).Select(i => i < n ? i : ~n)).Append('\n')
                .Append("leaf_value=").AppendJoin(' ', Enumerable.Range(0, leaves)).Append('\n')
                .Append("leaf_count=").AppendJoin(' ', Enumerable.Repeat(1, leaves)).Append('\n')
                .Append("internal_count=").AppendJoin(' ', Enumerable.Range(0, n).Select(i => leaves - i)).Append('\n')
                .Append("is_linear=0\nshrinkage=1\n\n\n");
        }

        return text.Append("end of trees\n").ToString();
    }

    /// <summary>Rows of random values, about a fifth of them NaN, zero, tiny, a threshold exactly, or a category edge.</summary>
    public static double[] Rows(int seed, int rows)
    {
        var random = new Random(seed);
        double[] specials = [double.NaN, 0, -0.0, 1e-36, -1e-36, 1e-35, -1, 0.5, 1, 2.5, 31, 32, 95, 96, 1e300, double.PositiveInfinity, double.NegativeInfinity, 3.5, -3];
        var x = new double[rows * Features];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = random.NextDouble() < 0.25 ? specials[random.Next(specials.Length)]
                : random.NextDouble() < 0.3 ? random.Next(100) : (random.NextDouble() * 6) - 3;
        }

        return x;
    }

    private static void AppendTree(StringBuilder text, int index, Random random, int leaves, bool categorical)
    {
        // Grow by splitting a random leaf: node i splits leaf[i]; its left child keeps the leaf's index.
        var left = new List<int>();
        var right = new List<int>();
        var leafParent = new List<int> { -1 };
        for (var leaf = 1; leaf < leaves; leaf++)
        {
            var split = random.Next(leaf);
            var node = left.Count;
            var parent = leafParent[split];
            if (parent >= 0)
            {
                if (left[parent] == ~split)
                {
                    left[parent] = node;
                }
                else
                {
                    right[parent] = node;
                }
            }

            left.Add(~split);
            right.Add(~leaf);
            leafParent[split] = node;
            leafParent.Add(node);
        }

        var n = leaves - 1;
        var leafCount = Enumerable.Range(0, leaves).Select(_ => 1 + random.Next(200)).ToArray();
        var internalCount = new int[n];
        int Count(int child) => child < 0 ? leafCount[~child] : Sum(child);
        int Sum(int node) => internalCount[node] = Count(left[node]) + Count(right[node]);
        if (n > 0)
        {
            Sum(0);
        }

        var feature = new int[n];
        var threshold = new string[n];
        var decision = new int[n];
        var boundaries = new List<int> { 0 };
        var words = new List<uint>();
        for (var i = 0; i < n; i++)
        {
            feature[i] = random.Next(Features);
            if (categorical && random.NextDouble() < 0.2)
            {
                // A bitset of 1 to 3 words over categories 0..95; the threshold is the bitset's index.
                var count = 1 + random.Next(3);
                for (var w = 0; w < count; w++)
                {
                    words.Add((uint)random.NextInt64(1L << 32));
                }

                threshold[i] = Inv($"{boundaries.Count - 1}");
                boundaries.Add(words.Count);
                decision[i] = 1;
            }
            else
            {
                var missing = random.Next(3);
                var defaultLeft = random.Next(2) == 1;
                decision[i] = (missing << 2) | (defaultLeft ? 2 : 0);
                threshold[i] = Inv($"{(random.NextDouble() < 0.6 ? Thresholds[random.Next(Thresholds.Length)] : (random.NextDouble() * 6) - 3):R}");
            }
        }

        text.Append(Inv($"Tree={index}\nnum_leaves={leaves}\nnum_cat={boundaries.Count - 1}\n"));
        if (n > 0)
        {
            text.Append("split_feature=").AppendJoin(' ', feature).Append('\n')
                .Append("split_gain=").AppendJoin(' ', Enumerable.Repeat("1", n)).Append('\n')
                .Append("threshold=").AppendJoin(' ', threshold).Append('\n')
                .Append("decision_type=").AppendJoin(' ', decision).Append('\n')
                .Append("left_child=").AppendJoin(' ', left).Append('\n')
                .Append("right_child=").AppendJoin(' ', right).Append('\n');
        }

        text.Append("leaf_value=").AppendJoin(' ', Enumerable.Range(0, leaves).Select(_ => Inv($"{(random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 2)):R}"))).Append('\n')
            .Append("leaf_count=").AppendJoin(' ', leafCount).Append('\n');
        if (n > 0)
        {
            text.Append("internal_count=").AppendJoin(' ', internalCount).Append('\n');
        }

        if (boundaries.Count > 1)
        {
            text.Append("cat_boundaries=").AppendJoin(' ', boundaries).Append('\n')
                .Append("cat_threshold=").AppendJoin(' ', words).Append('\n');
        }

        text.Append("is_linear=0\nshrinkage=1\n\n\n");
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
