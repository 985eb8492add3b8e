using PgIg.Formats;
using PgIg.Models;
using PgIg.Pipeline;
using PgIg.Stages;
using PgIg.Tests.ImageNetTrack;
using TorchSharp;
using Xunit;

namespace PgIg.Tests.Stages;

/// <summary>Tensor artifacts split large tensors over chunk rows, written and read one chunk at a time, bit for bit.</summary>
public sealed class TensorFilesTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pgig-tensorfiles-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_tensor_larger_than_a_chunk_round_trips_through_several_rows()
    {
        long big = TensorRow.ChunkBytes / sizeof(float) * 2 + 12345;   // two full chunks and a partial one
        using var gen = new torch.Generator(7);
        using var a = torch.randn([big / 5, 5], generator: gen);
        using var b = torch.randn([3, 4], generator: gen);
        var rows = TensorStore.ToRows(0, "W_0", a).Concat(TensorStore.ToRows(1, "b_0", b)).ToList();
        Assert.Equal([0L, TensorRow.ChunkBytes / 4, 2L * TensorRow.ChunkBytes / 4, 0], rows.Select(r => r.Offset));
        Assert.All(rows, r => Assert.True(r.Values.Length <= TensorRow.ChunkBytes));

        var w = new ArtifactWriter(_dir);
        await TensorFiles.WriteAsync(w, TensorFiles.ModelFile, rows);
        var read = TensorFiles.Read(_dir, TensorFiles.ModelFile);
        Assert.Equal(["W_0", "b_0"], read.Select(t => t.Name));
        Assert.True(read[0].Value.equal(a).all().item<bool>());
        Assert.True(read[1].Value.equal(b).all().item<bool>());
        foreach (var t in read) t.Value.Dispose();
    }

    [Fact]
    public void A_missing_or_misplaced_chunk_is_an_error_not_a_short_tensor()
    {
        using var a = torch.arange(TensorRow.ChunkBytes / sizeof(float) * 3, dtype: torch.float32);
        var rows = TensorStore.ToRows(0, "A_0", a).ToList();
        Assert.Contains("expected", Assert.Throws<InvalidDataException>(() => TensorStore.Assemble([rows[0], rows[2]]).ToList()).Message);
        Assert.Contains("only", Assert.Throws<InvalidDataException>(() => TensorStore.Assemble(rows.Take(2)).ToList()).Message);
        Assert.Contains("starts at element", Assert.Throws<InvalidDataException>(() => TensorStore.Assemble(rows.Skip(1)).ToList()).Message);
    }

    [Fact]
    public void Npz_members_stream_in_chunks_that_assemble_to_the_whole_read()
    {
        NarrowVgg.WriteWeights(Path.Combine(_dir, "w.npz"), seed: 5);
        var whole = TensorStore.Assemble(Vgg16Npz.ReadWeights(Path.Combine(_dir, "w.npz"))).ToList();
        var chunked = Vgg16Npz.ReadWeights(Path.Combine(_dir, "w.npz"), chunkBytes: 40_000).ToList();
        Assert.True(chunked.Count > 40);   // conv and dense (transposed) members both split
        Assert.Contains(chunked, r => r.Name == "W_13" && r.Offset > 0);
        var assembled = TensorStore.Assemble(chunked).ToList();
        Assert.Equal(whole.Select(t => t.Head.Name), assembled.Select(t => t.Head.Name));
        for (int i = 0; i < whole.Count; i++) Assert.True(whole[i].Value.equal(assembled[i].Value).all().item<bool>(), whole[i].Head.Name);
        foreach (var t in whole.Concat(assembled)) t.Value.Dispose();
    }
}
