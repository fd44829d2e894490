//! The consensus-facing block: our [`xa_types::Block`] with its canonical bytes and digest.

use bytes::{Buf, BufMut};
use commonware_codec::{EncodeSize, Error as CodecError, Read, Write};
use commonware_consensus::{Block as ConsensusBlock, Heightable, types::Height};
use commonware_cryptography::{Digestible, sha256::Digest};
use std::sync::{Arc, OnceLock};
use xa_types::{Block, Hash, Suite, decode, encode};

/// Decoding limits and the suite that defines the digest.
#[derive(Clone, Debug)]
pub struct BlockCfg {
    /// The chain's suite (block digests are header hashes under it).
    pub suite: Suite,
    /// Largest accepted encoded block, in bytes.
    pub max_bytes: usize,
}

/// A block as consensus and marshal carry it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ChainBlock {
    block: Arc<Block>,
    bytes: Arc<Vec<u8>>,
    digest: Digest,
    suite: Suite,
    /// Computed on first use: decoding a stored block for a read must not hash every
    /// transaction.
    tx_hashes: Arc<OnceLock<Vec<Hash>>>,
}

impl PartialEq for ChainBlock {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest
    }
}
impl Eq for ChainBlock {}

/// Convert our hash to a consensus digest.
pub fn to_digest(h: &Hash) -> Digest {
    Digest(h.0)
}

/// Convert a consensus digest to our hash.
pub fn from_digest(d: &Digest) -> Hash {
    Hash(d.0)
}

impl ChainBlock {
    /// Wrap a block, computing its encoding and digest once.
    pub fn new(suite: Suite, block: Block) -> Self {
        let bytes = encode(&block);
        Self::assemble(suite, block, bytes)
    }

    fn assemble(suite: Suite, block: Block, bytes: Vec<u8>) -> Self {
        let digest = to_digest(&block.header.hash(suite));
        Self {
            block: Arc::new(block),
            bytes: Arc::new(bytes),
            digest,
            suite,
            tx_hashes: Arc::new(OnceLock::new()),
        }
    }

    /// The hashes of the block's transactions, computed once.
    pub fn tx_hashes(&self) -> &[Hash] {
        self.tx_hashes
            .get_or_init(|| self.block.tx_hashes(self.suite))
    }

    /// The block.
    pub fn block(&self) -> &Block {
        &self.block
    }

    /// The shared block.
    pub fn shared(&self) -> Arc<Block> {
        self.block.clone()
    }

    /// Canonical encoding of the block.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The block hash.
    pub fn hash(&self) -> Hash {
        from_digest(&self.digest)
    }
}

impl Write for ChainBlock {
    fn write(&self, buf: &mut impl BufMut) {
        buf.put_u32(self.bytes.len() as u32);
        buf.put_slice(&self.bytes);
    }
}

impl EncodeSize for ChainBlock {
    fn encode_size(&self) -> usize {
        4 + self.bytes.len()
    }
}

impl Read for ChainBlock {
    type Cfg = BlockCfg;

    fn read_cfg(buf: &mut impl Buf, cfg: &BlockCfg) -> Result<Self, CodecError> {
        if buf.remaining() < 4 {
            return Err(CodecError::EndOfBuffer);
        }
        let len = buf.get_u32() as usize;
        if len > cfg.max_bytes {
            return Err(CodecError::Invalid(
                "ChainBlock",
                "block exceeds the size limit",
            ));
        }
        if buf.remaining() < len {
            return Err(CodecError::EndOfBuffer);
        }
        let mut bytes = vec![0u8; len];
        buf.copy_to_slice(&mut bytes);
        let block: Block = decode(&bytes)
            .map_err(|_| CodecError::Invalid("ChainBlock", "not a canonical block encoding"))?;
        Ok(Self::assemble(cfg.suite, block, bytes))
    }
}

impl Digestible for ChainBlock {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        self.digest
    }
}

impl Heightable for ChainBlock {
    fn height(&self) -> Height {
        Height::new(self.block.header.height)
    }
}

impl ConsensusBlock for ChainBlock {
    fn parent(&self) -> Digest {
        to_digest(&self.block.header.parent)
    }
}
