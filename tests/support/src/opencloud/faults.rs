//! Faults the tests inject into the OpenCloud stand-in, at a step of the provider's protocol
//! (docs/opencloud-behaviour.md, "Failures the tests inject"). The kinds of fault are the
//! NextCloud stand-in's [`Fault`]; what each answers here is in `dispatch`.

pub use crate::standin::Fault;

/// Inject a [`Fault`] at the `nth` (0-based) occurrence of a [`Step`] from now on, once.
pub type FaultRule = crate::standin::FaultRule<Step>;

pub(crate) type Faults = crate::standin::faults::Faults<Step>;

/// A step of the provider protocol (API-NOTES §5), as the stand-in recognises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `GET /graph/v1.0/me/drive` or `me/drives` (API-NOTES §3.1).
    Drive,
    /// A WebDAV MKCOL in the drive (API-NOTES §3.2).
    Mkcol,
    /// Finding an item's id: a children listing, or a WebDAV HEAD or PROPFIND in the drive
    /// (API-NOTES §3.3).
    ResolveItem,
    /// `GET /ocs/v1.php/cloud/capabilities` (API-NOTES §3.4).
    Capabilities,
    /// `POST …/createLink` asking for this link type (API-NOTES §3.5).
    CreateLink { link_type: LinkType },
    /// `DELETE …/permissions/{id}` (API-NOTES §3.7).
    DeleteLink,
    /// A WebDAV DELETE in the drive (API-NOTES §3.8).
    DeleteFolder,
    /// A PROPFIND of the drive's trash bin (docs/opencloud-behaviour.md, "Trash bin").
    ListTrash,
    /// A DELETE in the drive's trash bin: of one entry, or of the whole bin
    /// (docs/opencloud-behaviour.md, "Trash bin").
    RemoveFromTrash,
}

/// The `sharingLinkType` enum of the Graph API (API-NOTES §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    Internal,
    View,
    Upload,
    Edit,
    CreateOnly,
    BlocksDownload,
}

impl LinkType {
    pub fn parse(text: &str) -> Option<LinkType> {
        Some(match text {
            "internal" => LinkType::Internal,
            "view" => LinkType::View,
            "upload" => LinkType::Upload,
            "edit" => LinkType::Edit,
            "createOnly" => LinkType::CreateOnly,
            "blocksDownload" => LinkType::BlocksDownload,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LinkType::Internal => "internal",
            LinkType::View => "view",
            LinkType::Upload => "upload",
            LinkType::Edit => "edit",
            LinkType::CreateOnly => "createOnly",
            LinkType::BlocksDownload => "blocksDownload",
        }
    }
}
