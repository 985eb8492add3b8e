using PgIg.Config;

namespace PgIg.Tracks;

public static class TrackFactory
{
    public static ITrack Create(PipelineConfig c) => c.Track switch
    {
        Track.FashionMnist => new FashionMnistTrack(c),
        _ => throw new ConfigException($"{c.SourceFile}: track '{PipelineConfig.TrackName(c.Track)}' is not available in this build yet; use track: fashion-mnist"),
    };
}
