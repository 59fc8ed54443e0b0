Attribute VB_Name = "XlcrmDispatch"
' xlcrm: every ribbon button and every button on a sheet lands here.
'
' A ribbon button's tag (a sheet button's macro name) names the xlcrm command; Python does the
' work in xlcrm.addin.run_button, on the active workbook, through xlwings' RunPython.
' This file is ASCII only: VBA stores source in the project's code page.
Option Explicit

' Ribbon: onAction="XlcrmButton" on every button of the CRM tab. Typed As Object (late bound),
' so the module compiles whether or not the Office library reference resolves on this machine.
Public Sub XlcrmButton(control As Object)
    XlcrmRun control.Tag
End Sub

' Run one command by its tag. Tags are plain lower-case names, never user text.
Public Sub XlcrmRun(ByVal commandTag As String)
    If Len(commandTag) = 0 Or commandTag Like "*[!a-z_]*" Then
        MsgBox "xlcrm: unknown button '" & commandTag & "'", vbExclamation, "xlcrm"
        Exit Sub
    End If
    RunPython "import xlcrm.addin; xlcrm.addin.run_button('" & commandTag & "')"
End Sub

' Buttons on a sheet (form controls) take no argument: one macro per command.
Public Sub XlcrmRunAll()
    XlcrmRun "run"
End Sub

Public Sub XlcrmCheck()
    XlcrmRun "check"
End Sub

Public Sub XlcrmRegrade()
    XlcrmRun "regrade"
End Sub

Public Sub XlcrmDueToday()
    XlcrmRun "due"
End Sub

Public Sub XlcrmDedupe()
    XlcrmRun "dedupe"
End Sub

Public Sub XlcrmMerge()
    XlcrmRun "merge"
End Sub

Public Sub XlcrmUndoMerge()
    XlcrmRun "undo_merge"
End Sub

Public Sub XlcrmSummary()
    XlcrmRun "summary"
End Sub

Public Sub XlcrmReceivables()
    XlcrmRun "receivables"
End Sub

Public Sub XlcrmExport()
    XlcrmRun "export"
End Sub

Public Sub XlcrmCard()
    XlcrmRun "card"
End Sub

Public Sub XlcrmHelp()
    XlcrmRun "help"
End Sub

Public Sub XlcrmSync()
    XlcrmRun "sync"
End Sub

Public Sub XlcrmHandover()
    XlcrmRun "handover"
End Sub
