using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lasthope.Trees.Evaluation;

/// <summary>Which vector width the bitvector kernel uses.</summary>
internal enum BitvectorWidth : byte
{
    /// <summary>Two 8-lane vectors per group of 16 documents (AVX-512: the leaf index by <c>vplzcntq</c>).</summary>
    Vector512,

    /// <summary>Four 4-lane vectors per group (AVX2, or any platform through the portable vector API).</summary>
    Vector256,
}

/// <summary>
/// The bitvector kernel: a tree of at most 64 leaves evaluated for 16 documents at once with no branch and no
/// data-dependent load.
/// <para>
/// The representation is QuickScorer's (Lucchese, Nardini, Orlando, Perego, Tonellotto and Venturini, "QuickScorer: a
/// fast algorithm to rank documents with additive ensembles of regression trees", SIGIR 2015): number the leaves left
/// to right, give each document a word with one bit per leaf, all set; at every internal node whose test the document
/// fails (it goes right), clear the bits of the node's left subtree. The bits left cover the leaves the document may
/// still reach, and the exit leaf is the leftmost of them (the nodes on its path never cleared it, and every leaf left
/// of it lies in the left subtree of a node on that path where the document went right). The AND of the masks does
/// not depend on the order in which nodes are visited.
/// </para>
/// <para>
/// QuickScorer visits nodes feature by feature in threshold order and stops at the first test a document passes; with
/// SIMD across documents (V-QuickScorer, Lucchese et al., SIGIR 2016) a group continues until every lane has passed.
/// Here every node of the tree is evaluated instead, tree by tree: per node and group of 16 documents, two key loads,
/// two compares against the broadcast threshold into mask registers and two masked ANDs, and no loop-exit branch at
/// all. Leaf r is bit 63 - r, so the exit leaf is the count of leading zeros, and the leaf values of 16 documents are
/// gathered and added in vectors. For the benchmark's trees (63 leaves, leaf-wise, mean exit depth 6) this does 62
/// predicated node tests per document and tree where a walk does about 6 dependent ones (9 with the lockstep walk's
/// waiting for the deepest of eight), and was still 1.4x faster than the lockstep kernel in the same benchmark run
/// (docs/performance.md): 16 documents share each instruction, and nothing waits on a load's latency or a
/// mispredicted branch.
/// </para>
/// </summary>
[SkipLocalsInit]
internal static unsafe class BitvectorKernels
{
    /// <summary>Documents that walk a tree together.</summary>
    public const int GroupSize = CompiledForest.KeyGroup;

    /// <summary>
    /// Trees a group of documents walks before the next group starts: their nodes (about 1.5 KB a tree of 63 leaves)
    /// stay in L1 while the block's four groups pass. (Measured: 1, 4, 8, 16 or 64 made no difference beyond noise.)
    /// </summary>
    public const int ChunkTrees = 8;

    /// <summary>The widest width this machine runs natively.</summary>
    public static BitvectorWidth Best { get; } =
        Vector512.IsHardwareAccelerated && Avx512CD.IsSupported && Avx2.IsSupported ? BitvectorWidth.Vector512 : BitvectorWidth.Vector256;

    /// <summary>
    /// Adds trees [<paramref name="treeFrom"/>, <paramref name="treeTo"/>), all of them bitvector trees, to the
    /// accumulators (<see cref="CompiledForest.BlockSize"/> per class, class-major) of the first
    /// <paramref name="count"/> documents of a block whose keys are <paramref name="keys"/> (by groups of
    /// <see cref="GroupSize"/>, see <see cref="CompiledForest.KeyIndex"/>). Each document still receives its trees in
    /// model order. Lanes
    /// past <paramref name="count"/>, up to a multiple of <see cref="GroupSize"/>, are computed from whatever keys the
    /// scratch holds and their sums are never read.
    /// </summary>
    public static void AddTrees(CompiledForest forest, int treeFrom, int treeTo, long* keys, int count, double* accumulators, BitvectorWidth width)
    {
        var layout = forest.Bitvector;
        var classes = forest.TreeClass;
        var lanes = stackalloc ulong[GroupSize];
        for (var chunk = treeFrom; chunk < treeTo; chunk += ChunkTrees)
        {
            var chunkEnd = Math.Min(treeTo, chunk + ChunkTrees);
            for (var g = 0; g < count; g += GroupSize)
            {
                var xs = (byte*)(keys + ((g / GroupSize) * forest.SlotCount * GroupSize));
                for (var t = chunk; t < chunkEnd; t++)
                {
                    var accumulator = accumulators + (classes[t] * CompiledForest.BlockSize) + g;
                    if (width == BitvectorWidth.Vector512)
                    {
                        Tree512(forest, layout, t, xs, accumulator, lanes);
                    }
                    else
                    {
                        Tree256(forest, layout, t, xs, accumulator, lanes);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tree512(CompiledForest forest, BitvectorLayout layout, int tree, byte* xs, double* accumulator, ulong* lanes)
    {
        var node = layout.Nodes + layout.NodeStart[tree];
        var numericalEnd = layout.Nodes + layout.CategoricalStart[tree];
        var end = layout.Nodes + layout.NodeStart[tree + 1];
        var v0 = Vector512<ulong>.AllBitsSet;
        var v1 = Vector512<ulong>.AllBitsSet;
        for (; node < numericalEnd; node++)
        {
            // vpcmpgtq into a mask register, then a masked vpandq: lanes going right lose the left subtree.
            var x = (long*)(xs + node->SlotOffset);
            var threshold = Vector512.Create(node->Key);
            var keep = Vector512.Create(node->Keep);
            v0 = Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Load(x), threshold).AsUInt64(), v0 & keep, v0);
            v1 = Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Load(x + 8), threshold).AsUInt64(), v1 & keep, v1);
        }

        if (node < end)
        {
            // Out of the numerical loop, which then holds its vectors in registers: a call inside it would make the
            // JIT keep them in memory.
            v0.Store(lanes);
            v1.Store(lanes + 8);
            CategoricalNodes(forest, node, end, xs, lanes);
            v0 = Vector512.Load(lanes);
            v1 = Vector512.Load(lanes + 8);
        }

        var values = layout.LeafValue + layout.LeafStart[tree];
        var leaf0 = Avx512CD.LeadingZeroCount(v0).AsInt64();
        var leaf1 = Avx512CD.LeadingZeroCount(v1).AsInt64();
        var a = accumulator;
        (Vector256.Load(a) + Avx2.GatherVector256(values, leaf0.GetLower(), 8)).Store(a);
        (Vector256.Load(a + 4) + Avx2.GatherVector256(values, leaf0.GetUpper(), 8)).Store(a + 4);
        (Vector256.Load(a + 8) + Avx2.GatherVector256(values, leaf1.GetLower(), 8)).Store(a + 8);
        (Vector256.Load(a + 12) + Avx2.GatherVector256(values, leaf1.GetUpper(), 8)).Store(a + 12);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tree256(CompiledForest forest, BitvectorLayout layout, int tree, byte* xs, double* accumulator, ulong* lanes)
    {
        var node = layout.Nodes + layout.NodeStart[tree];
        var numericalEnd = layout.Nodes + layout.CategoricalStart[tree];
        var end = layout.Nodes + layout.NodeStart[tree + 1];
        var v0 = Vector256<ulong>.AllBitsSet;
        var v1 = Vector256<ulong>.AllBitsSet;
        var v2 = Vector256<ulong>.AllBitsSet;
        var v3 = Vector256<ulong>.AllBitsSet;
        for (; node < numericalEnd; node++)
        {
            var x = (long*)(xs + node->SlotOffset);
            var threshold = Vector256.Create(node->Key);
            var keep = Vector256.Create(node->Keep);
            v0 = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(x), threshold).AsUInt64(), v0 & keep, v0);
            v1 = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(x + 4), threshold).AsUInt64(), v1 & keep, v1);
            v2 = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(x + 8), threshold).AsUInt64(), v2 & keep, v2);
            v3 = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(x + 12), threshold).AsUInt64(), v3 & keep, v3);
        }

        v0.Store(lanes);
        v1.Store(lanes + 4);
        v2.Store(lanes + 8);
        v3.Store(lanes + 12);
        if (node < end)
        {
            CategoricalNodes(forest, node, end, xs, lanes);
        }

        var values = layout.LeafValue + layout.LeafStart[tree];
        for (var d = 0; d < GroupSize; d++)
        {
            accumulator[d] += values[BitOperations.LeadingZeroCount(lanes[d])];
        }
    }

    /// <summary>
    /// Applies categorical nodes [<paramref name="from"/>, <paramref name="to"/>) to the 16 lanes' words: where a
    /// document goes right (its category is not in the node's set) its word loses the node's left subtree. Scalar:
    /// categorical nodes are few, and the set test is a lookup per document.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CategoricalNodes(CompiledForest forest, BitvectorNode* from, BitvectorNode* to, byte* xs, ulong* lanes)
    {
        for (var node = from; node < to; node++)
        {
            var x = (long*)(xs + node->SlotOffset);
            for (var d = 0; d < GroupSize; d++)
            {
                lanes[d] &= ForestKernels.InCategorySet(forest, node->Node, ForestKernels.ValueOf(x[d])) ? ulong.MaxValue : node->Keep;
            }
        }
    }
}
