"""Test-only portals: the fault portal (tests.portal.faults). The offline portal itself ships as nianbao.demo."""
