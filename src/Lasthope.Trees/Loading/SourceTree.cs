namespace Lasthope.Trees.Loading;

/// <summary>
/// One tree in LightGBM's own layout, which is the canonical form every loader produces: internal nodes 0..n-1 with
/// children that are internal-node indices (&gt;= 0) or bitwise complements of leaf indices (&lt; 0). A node sends a
/// document left when <c>x &lt;= Threshold</c> (in double precision) unless its <see cref="DecisionType"/> says
/// otherwise; see <see cref="Decision"/> for the bits. XGBoost's <c>x &lt; t</c> on floats is rewritten into this
/// form by its loader.
/// </summary>
internal sealed class SourceTree
{
    public required int[] Left { get; init; }

    public required int[] Right { get; init; }

    public required int[] Feature { get; init; }

    /// <summary>Numerical threshold, or for a categorical node the index of its bitset in <see cref="CatBoundaries"/>.</summary>
    public required double[] Threshold { get; init; }

    public required byte[] DecisionType { get; init; }

    public required double[] Gain { get; init; }

    public required double[] InternalCover { get; init; }

    public required double[] LeafValue { get; init; }

    public required double[] LeafCover { get; init; }

    /// <summary>Bitset boundaries: bitset i is <c>CatBits[CatBoundaries[i]..CatBoundaries[i+1]]</c>.</summary>
    public int[] CatBoundaries { get; init; } = [];

    public uint[] CatBits { get; init; } = [];

    /// <summary>The leaf identifiers of the source format (XGBoost node ids), or null when leaf i is called i.</summary>
    public int[]? LeafIds { get; init; }

    public int InternalCount => Left.Length;

    public int LeafCount => LeafValue.Length;

    /// <summary>
    /// Checks that the arrays describe one tree: every array has its length, every child index is in range, every node
    /// but the root and every leaf is reached exactly once, features are in range, categorical bitsets exist and
    /// numerical thresholds are numbers. A corrupt file fails here rather than scoring wrongly.
    /// </summary>
    public void Validate(int treeIndex, int featureCount)
    {
        var n = InternalCount;
        var leaves = LeafCount;
        if (leaves < 1)
        {
            throw ModelLoadException.Corrupt($"Tree {treeIndex} has no leaves.");
        }

        if (n != leaves - 1)
        {
            throw ModelLoadException.Corrupt($"Tree {treeIndex} has {leaves} leaves but {n} internal nodes (a binary tree has leaves - 1).");
        }

        RequireLength(treeIndex, "right_child", Right.Length, n);
        RequireLength(treeIndex, "split_feature", Feature.Length, n);
        RequireLength(treeIndex, "threshold", Threshold.Length, n);
        RequireLength(treeIndex, "decision_type", DecisionType.Length, n);
        RequireLength(treeIndex, "split_gain", Gain.Length, n);
        RequireLength(treeIndex, "internal_count", InternalCover.Length, n);
        RequireLength(treeIndex, "leaf_count", LeafCover.Length, leaves);
        if (LeafIds is not null)
        {
            RequireLength(treeIndex, "leaf ids", LeafIds.Length, leaves);
        }

        var internalSeen = new bool[n];
        var leafSeen = new bool[leaves];
        for (var i = 0; i < n; i++)
        {
            Visit(treeIndex, Left[i], internalSeen, leafSeen);
            Visit(treeIndex, Right[i], internalSeen, leafSeen);
            if ((uint)Feature[i] >= (uint)featureCount)
            {
                throw ModelLoadException.Corrupt($"Tree {treeIndex} node {i} splits on feature {Feature[i]}, but the model has {featureCount} features.");
            }

            var type = DecisionType[i];
            if (Decision.IsCategorical(type))
            {
                var cat = Threshold[i];
                if (!(cat >= 0) || cat != Math.Floor(cat) || cat + 1 >= CatBoundaries.Length)
                {
                    throw ModelLoadException.Corrupt($"Tree {treeIndex} node {i} is categorical with bitset index {cat}, but the tree has {Math.Max(0, CatBoundaries.Length - 1)} bitsets.");
                }
            }
            else
            {
                if (double.IsNaN(Threshold[i]))
                {
                    throw ModelLoadException.Corrupt($"Tree {treeIndex} node {i} has the threshold NaN.");
                }

                if (Decision.MissingType(type) > Decision.MissingNaN)
                {
                    throw ModelLoadException.Corrupt($"Tree {treeIndex} node {i} has an unknown missing type in decision_type {type}.");
                }
            }
        }

        for (var b = 1; b < CatBoundaries.Length; b++)
        {
            if (CatBoundaries[b] < CatBoundaries[b - 1] || CatBoundaries[b] > CatBits.Length || CatBoundaries[0] != 0)
            {
                throw ModelLoadException.Corrupt($"Tree {treeIndex} has inconsistent cat_boundaries.");
            }
        }

        // Node 0 is the root when the tree splits at all; every other internal node and every leaf has one parent.
        for (var i = 1; i < n; i++)
        {
            if (!internalSeen[i])
            {
                throw ModelLoadException.Corrupt($"Tree {treeIndex} node {i} is not reachable from the root.");
            }
        }

        if (n > 0 && internalSeen[0])
        {
            throw ModelLoadException.Corrupt($"Tree {treeIndex}: the root is a child of another node (a cycle).");
        }

        for (var l = 0; l < leaves; l++)
        {
            if (n > 0 && !leafSeen[l])
            {
                throw ModelLoadException.Corrupt($"Tree {treeIndex} leaf {l} is not reachable from the root.");
            }

            if (double.IsNaN(LeafValue[l]))
            {
                throw ModelLoadException.Corrupt($"Tree {treeIndex} leaf {l} has the value NaN.");
            }
        }

        // Each node has one parent and the root none, so with n internal nodes and n+1 leaves the graph is a tree
        // unless it has a cycle that does not pass through the root; a depth walk finds those.
        if (n > 0)
        {
            _ = MaxDepth(treeIndex);
        }
    }

    /// <summary>The number of edges on the longest root-to-leaf path (0 for a single leaf).</summary>
    public int MaxDepth(int treeIndex = 0)
    {
        if (InternalCount == 0)
        {
            return 0;
        }

        var max = 0;
        var stack = new Stack<(int Node, int Depth)>();
        stack.Push((0, 0));
        var visited = 0;
        while (stack.Count > 0)
        {
            var (node, depth) = stack.Pop();
            if (++visited > InternalCount + LeafCount)
            {
                throw ModelLoadException.Corrupt($"Tree {treeIndex} has a cycle.");
            }

            if (node < 0)
            {
                max = Math.Max(max, depth);
                continue;
            }

            stack.Push((Left[node], depth + 1));
            stack.Push((Right[node], depth + 1));
        }

        return max;
    }

    private static void Visit(int treeIndex, int child, bool[] internalSeen, bool[] leafSeen)
    {
        if (child >= 0)
        {
            if (child >= internalSeen.Length)
            {
                throw ModelLoadException.Corrupt($"Tree {treeIndex} refers to node {child}, but it has {internalSeen.Length} internal nodes.");
            }

            if (internalSeen[child])
            {
                throw ModelLoadException.Corrupt($"Tree {treeIndex} node {child} has two parents.");
            }

            internalSeen[child] = true;
        }
        else
        {
            var leaf = ~child;
            if (leaf >= leafSeen.Length)
            {
                throw ModelLoadException.Corrupt($"Tree {treeIndex} refers to leaf {leaf}, but it has {leafSeen.Length} leaves.");
            }

            if (leafSeen[leaf])
            {
                throw ModelLoadException.Corrupt($"Tree {treeIndex} leaf {leaf} has two parents.");
            }

            leafSeen[leaf] = true;
        }
    }

    private static void RequireLength(int treeIndex, string field, int actual, int expected)
    {
        if (actual != expected)
        {
            throw ModelLoadException.Corrupt($"Tree {treeIndex}: {field} has {actual} values, expected {expected}.");
        }
    }
}

/// <summary>
/// LightGBM's <c>decision_type</c> byte (include/LightGBM/tree.h): bit 0 categorical, bit 1 default-left, bits 2-3 the
/// missing type (0 None, 1 Zero, 2 NaN).
/// </summary>
internal static class Decision
{
    public const byte CategoricalMask = 1;
    public const byte DefaultLeftMask = 2;
    public const int MissingNone = 0;
    public const int MissingZero = 1;
    public const int MissingNaN = 2;

    /// <summary>LightGBM's kZeroThreshold (1e-35f, a float widened to double): |x| at or below it is zero.</summary>
    public const double ZeroThreshold = 1e-35f;

    public static bool IsCategorical(byte type) => (type & CategoricalMask) != 0;

    public static bool DefaultLeft(byte type) => (type & DefaultLeftMask) != 0;

    public static int MissingType(byte type) => (type >> 2) & 3;

    public static byte Make(bool categorical, bool defaultLeft, int missingType) =>
        (byte)((categorical ? CategoricalMask : 0) | (defaultLeft ? DefaultLeftMask : 0) | (missingType << 2));
}
