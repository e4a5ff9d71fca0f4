//! The audit log's segment files: any bytes stored as a segment never panic the line parser,
//! verification or the writer's tail recovery.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongbox::audit::segment::{self, DEFAULT_SEGMENT_BYTES, SegmentWriter};
use strongbox::audit::verify;

fuzz_target!(|data: &[u8]| {
    for (_, line) in segment::lines(data, 0) {
        let _ = segment::parse_line(line);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(segment::segment_name(1)), data).expect("write");
    // A key no digest was signed with: any digest fails, every other check still runs.
    let _ = verify::verify(dir.path(), None, &[0u8; 32]);
    let _ = SegmentWriter::open(dir.path(), DEFAULT_SEGMENT_BYTES);
});
